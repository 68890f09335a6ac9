/**
 * Disks made from images and blank disks on one host: the per-host image cache (download once, SHA-256 verified,
 * partial file then rename, size limit, one download shared by concurrent VMs, redirects only to http/https), the
 * decision which qcow2 backing files are safe, and qcow2 overlays on cached bases.
 *
 * <p>{@link io.virtfleet.agent.image.DiskPlans} and {@link io.virtfleet.agent.image.BackingFiles} are pure (observed
 * facts in, a decision out); {@link io.virtfleet.agent.image.ImageCache} and
 * {@link io.virtfleet.agent.image.DiskProvisioner} act on files and run qemu-img.
 */
package io.virtfleet.agent.image;
