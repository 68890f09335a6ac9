package io.virtfleet.agent.image;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.render.DiskFormats;
import io.virtfleet.reconcilers.validation.DiskSizes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What must happen before a domain can be defined: which disk files to create, from which cached base or as blank
 * disks. Pure: which files exist is observed by the caller. An existing file is never touched (it is the VM's data;
 * re-creating it from the image would lose it), so applying a plan twice does nothing the second time.
 */
public final class DiskPlans {
    private DiskPlans() {
    }

    /** One step: fetch a base into the cache, or create a disk file. */
    public sealed interface Step permits Fetch, Overlay, Blank {
    }

    /** Make sure the image is in the cache (one download per SHA-256, however many disks use it). */
    public record Fetch(String url, String sha256, String format) implements Step {
    }

    /** {@code qemu-img create -f qcow2 -b BASE -F BASEFORMAT PATH}. */
    public record Overlay(String disk, String path, String sha256, String baseFormat) implements Step {
    }

    /** {@code qemu-img create -f FORMAT PATH BYTES}. */
    public record Blank(String disk, String path, String format, long bytes) implements Step {
    }

    /** Cache key: the SHA-256 in lower case, the file name of the base {@code <sha256>.<format>}. */
    public static String baseName(String sha256, String format) {
        return sha256.toLowerCase(Locale.ROOT) + "." + (format == null ? "qcow2" : format);
    }

    private static final java.util.regex.Pattern BASE_NAME =
            java.util.regex.Pattern.compile("[0-9a-f]{64}\\.(qcow2|raw)");

    /** Whether a file name in the cache is a base's ({@code <sha256>.qcow2|raw}); partial files and others are not. */
    public static boolean isBaseName(String name) {
        return BASE_NAME.matcher(name).matches();
    }

    /**
     * Steps for the VM's disks, in order: every fetch (once per image) before the overlays that need it.
     *
     * @param existing disk paths that already exist on the host
     * @param cached   base names ({@link #baseName}) already in the cache
     */
    public static List<Step> plan(List<VirtualMachineSpec.Disk> disks, Set<String> existing, Set<String> cached) {
        List<Step> fetches = new ArrayList<>();
        List<Step> creates = new ArrayList<>();
        List<String> fetched = new ArrayList<>();
        for (VirtualMachineSpec.Disk d : disks == null ? List.<VirtualMachineSpec.Disk>of() : disks) {
            VirtualMachineSpec.Volume v = d.volume;
            if (v == null || v.path == null || existing.contains(v.path)) {
                continue;
            }
            if (v.image != null) {
                String format = v.image.format == null ? "qcow2" : v.image.format;
                String base = baseName(v.image.sha256, format);
                if (!cached.contains(base) && !fetched.contains(base)) {
                    fetched.add(base);
                    fetches.add(new Fetch(v.image.url, v.image.sha256.toLowerCase(Locale.ROOT), format));
                }
                creates.add(new Overlay(d.name, v.path, v.image.sha256.toLowerCase(Locale.ROOT), format));
            } else if (v.size != null) {
                creates.add(new Blank(d.name, v.path, DiskFormats.of(d), DiskSizes.bytes(v.size)));
            }
        }
        List<Step> out = new ArrayList<>(fetches);
        out.addAll(creates);
        return out;
    }

    /**
     * Files to remove when the VM is deleted: the disks created from an image or as blank disks (the agent made
     * them), never a file in the image cache, which other VMs' overlays may still read.
     */
    public static List<String> removable(List<VirtualMachineSpec.Disk> disks, String cacheRoot) {
        List<String> out = new ArrayList<>();
        for (VirtualMachineSpec.Disk d : disks == null ? List.<VirtualMachineSpec.Disk>of() : disks) {
            VirtualMachineSpec.Volume v = d.volume;
            if (v != null && v.path != null && (v.image != null || v.size != null)
                    && !io.virtfleet.reconcilers.validation.DiskPaths.isUnder(v.path, cacheRoot)) {
                out.add(v.path);
            }
        }
        return out;
    }
}
