/**
 * Disks made from images and blank disks on one host: the per-host image cache (download once, SHA-256 verified,
 * partial file then rename, size limit, one download shared by concurrent VMs, redirects only to http/https, bounded
 * by the Host's {@code spec.imageCache.maxSize} with unused bases evicted), the decision which qcow2 backing files are
 * safe, and qcow2 overlays on cached bases.
 *
 * <p>{@link io.virtfleet.agent.image.DiskPlans}, {@link io.virtfleet.agent.image.BackingFiles},
 * {@link io.virtfleet.agent.image.CacheEviction} and {@link io.virtfleet.agent.image.DomainImages} are pure (observed
 * facts in, a decision out); {@link io.virtfleet.agent.image.ImageCache} and
 * {@link io.virtfleet.agent.image.DiskProvisioner} act on files and run qemu-img;
 * {@link io.virtfleet.agent.image.CacheKeeper} keeps the cache under the Host's limit (observe with
 * {@link io.virtfleet.agent.image.BackingChains}, plan, act under the base's lock, record).
 */
package io.virtfleet.agent.image;
