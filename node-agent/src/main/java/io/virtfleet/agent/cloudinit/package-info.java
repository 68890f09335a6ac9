/**
 * cloud-init's NoCloud data source: the files of the {@code cidata} seed the VM's host attaches read-only. {@link io.virtfleet.agent.cloudinit.NoCloudSeed}
 * (pure: which files) and {@link io.virtfleet.agent.cloudinit.SeedImage} (the ISO 9660 image, genisoimage). Reading
 * the Secrets and attaching the seed are not here yet.
 */
package io.virtfleet.agent.cloudinit;
