/**
 * cloud-init's NoCloud data source: the files of the {@code cidata} seed the VM's host attaches read-only. Pure so
 * far ({@link io.virtfleet.agent.cloudinit.NoCloudSeed}); building the ISO 9660 image and reading Secrets are not
 * here yet.
 */
package io.virtfleet.agent.cloudinit;
