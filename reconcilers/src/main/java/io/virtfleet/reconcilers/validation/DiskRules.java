package io.virtfleet.reconcilers.validation;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec.Disk;
import io.virtfleet.reconcilers.platform.Platform;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Rules for spec.disks, one disk at a time plus what must be unique across them. */
final class DiskRules extends ItemRules<Disk> {
    private static final List<String> FORMATS = List.of("qcow2", "raw");
    private static final int IDE_UNITS = 4;
    private static final Pattern TARGET_SUFFIX = Pattern.compile("[a-z]{1,3}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

    private final List<String> roots;
    private final Map<String, String> targets = new HashMap<>();
    private final Map<String, String> writablePaths = new HashMap<>();
    private int ideDevices;

    DiskRules(Platform platform, List<String> roots, Errors errors) {
        super(platform, errors);
        this.roots = roots;
    }

    @Override
    String name(Disk d) {
        return d.name;
    }

    @Override
    void checkNamed(String p, Disk d) {
        boolean cdrom = Boolean.TRUE.equals(d.cdrom);
        if (platform != null && platform.family() == Platform.Family.OPENVZ) {
            openvz(p, d, cdrom);
            return;
        }
        volume(p, d, cdrom);
        String bus = bus(p, d, cdrom);
        if ("ide".equals(bus) && ++ideDevices > IDE_UNITS) {
            errors.add(p + (d.bus != null ? ".bus" : ""), "the IDE bus has room for " + IDE_UNITS
                    + " devices (hda-hdd)");
        }
        target(p, d, bus);
    }

    /** A container's root filesystem comes from its template; there are no block devices to attach. */
    private void openvz(String p, Disk d, boolean cdrom) {
        if (d.bus != null) {
            errors.add(p + ".bus", "openvz containers have no disk buses (the root filesystem comes from os.template)");
        } else if (cdrom) {
            errors.add(p + ".cdrom", "openvz containers have no cdrom drives");
        } else {
            errors.add(p, "openvz containers have no disks (the root filesystem comes from os.template)");
        }
    }

    private void volume(String p, Disk d, boolean cdrom) {
        if (d.volume == null || d.volume.path == null) {
            if (!cdrom) {
                errors.add(p + ".volume.path", "required (only a cdrom drive may be empty)");
            }
        } else if (Checks.text(errors, p + ".volume.path", d.volume.path)) {
            String problem = DiskPaths.problem(d.volume.path, roots);
            if (problem != null) {
                errors.add(p + ".volume.path", problem);
            } else if (!cdrom && !Boolean.TRUE.equals(d.readOnly)) {
                String other = writablePaths.putIfAbsent(d.volume.path, p);
                if (other != null) {
                    errors.add(p + ".volume.path", "same image as " + other
                            + ".volume.path (a writable image must not be attached twice)");
                }
            }
        }
        if (d.volume != null && d.volume.format != null && Checks.text(errors, p + ".volume.format", d.volume.format)) {
            if (!FORMATS.contains(d.volume.format)) {
                errors.add(p + ".volume.format", "unsupported format " + Text.quote(d.volume.format)
                        + " (expected one of " + String.join(", ", FORMATS) + ")");
            } else if (cdrom && !d.volume.format.equals("raw")) {
                errors.add(p + ".volume.format", "a cdrom's media is raw (an ISO image), not " + d.volume.format);
            } else if (d.volume.image != null && !d.volume.format.equals("qcow2")) {
                errors.add(p + ".volume.format", "a disk made from an image is a qcow2 overlay on the cached base, "
                        + "not " + d.volume.format + " (omit format or use qcow2)");
            }
        }
        if (d.volume != null) {
            source(p + ".volume", d, cdrom);
        }
    }

    /** Where a missing disk file comes from: an image in the host's cache, or a blank disk of a size. */
    private void source(String p, Disk d, boolean cdrom) {
        if (d.volume.image != null && d.volume.size != null) {
            errors.add(p + ".size", "set either image or size, not both");
            return;
        }
        if ((d.volume.image != null || d.volume.size != null) && (cdrom || Boolean.TRUE.equals(d.readOnly))) {
            errors.add(p + (d.volume.image != null ? ".image" : ".size"), "only a writable disk is created from an "
                    + "image or as a blank disk (" + (cdrom ? "a cdrom's media" : "a read-only disk")
                    + " must already exist at path)");
            return;
        }
        if (d.volume.image != null) {
            image(p + ".image", d.volume.image);
        }
        if (d.volume.size != null) {
            String problem = DiskSizes.problem(d.volume.size);
            if (problem != null) {
                errors.add(p + ".size", problem);
            }
        }
    }

    private void image(String p, VirtualMachineSpec.Image image) {
        if (image.url == null || image.url.isEmpty()) {
            errors.add(p + ".url", "required (https://, http:// or file:///PATH under an allowed disk root)");
        } else if (Checks.text(errors, p + ".url", image.url)) {
            String problem = ImageUrls.problem(image.url, roots);
            if (problem != null) {
                errors.add(p + ".url", problem);
            }
        }
        if (image.sha256 == null || image.sha256.isEmpty()) {
            errors.add(p + ".sha256", "required (the hex SHA-256 of the image file; every download is verified "
                    + "against it)");
        } else if (Checks.text(errors, p + ".sha256", image.sha256) && !SHA256.matcher(image.sha256).matches()) {
            errors.add(p + ".sha256", Text.quote(image.sha256) + " is not a SHA-256 (64 hex digits)");
        }
        if (image.format != null && Checks.text(errors, p + ".format", image.format)
                && !FORMATS.contains(image.format)) {
            errors.add(p + ".format", "unsupported image format " + Text.quote(image.format) + " (expected one of "
                    + String.join(", ", FORMATS) + "; compressed images are not accepted)");
        }
    }

    /** The bus the disk ends up on, or null when it is unusable. */
    private String bus(String p, Disk d, boolean cdrom) {
        if (platform == null) {
            return null;
        }
        if (cdrom && !platform.supportsCdrom()) {
            errors.add(p + ".cdrom", "Xen PV guests have no cdrom drives (use machine xenfv for an HVM guest)");
            return null;
        }
        if (d.bus == null) {
            return platform.defaultDiskBus(cdrom);
        }
        if (!Checks.text(errors, p + ".bus", d.bus)) {
            return null;
        }
        List<String> buses = platform.diskBuses(cdrom);
        if (!buses.contains(d.bus)) {
            String why = d.bus.equals("ide") && platform.family() == Platform.Family.Q35
                    ? " (q35 machines have no IDE controller; use sata)" : "";
            errors.add(p + ".bus", "unsupported bus " + Text.quote(d.bus) + " for " + describe(cdrom) + why
                    + " (expected one of " + String.join(", ", buses) + ")");
            return null;
        }
        return d.bus;
    }

    private String describe(boolean cdrom) {
        String what = cdrom ? "a cdrom" : "a disk";
        return switch (platform.family()) {
            case Q35 -> what + " on a q35 machine";
            case I440FX -> what + " on a pc machine";
            case XEN_HVM -> what + " of a Xen HVM guest";
            case XEN_PV -> what + " of a Xen PV guest";
            case OPENVZ -> what;
        };
    }

    /** Targets must fit the bus's naming (libvirt infers the bus from it) and be unique. */
    private void target(String p, Disk d, String bus) {
        if (d.target == null || !Checks.text(errors, p + ".target", d.target)) {
            return;
        }
        if (bus != null) {
            String prefix = Platform.targetPrefix(bus);
            String suffix = d.target.startsWith(prefix) ? d.target.substring(prefix.length()) : null;
            boolean ok = suffix != null && TARGET_SUFFIX.matcher(suffix).matches()
                    && (!bus.equals("ide") || suffix.length() == 1 && suffix.charAt(0) <= 'd');
            if (!ok) {
                errors.add(p + ".target", Text.quote(d.target) + " does not name a disk on bus " + bus
                        + " (expected " + prefix + " followed by " + (bus.equals("ide") ? "a letter a-d" : "letters")
                        + ", e.g. " + prefix + "b)");
                return;
            }
        }
        String other = targets.putIfAbsent(d.target, p);
        if (other != null) {
            errors.add(p + ".target", "duplicate target " + Text.quote(d.target) + " (also " + other + ".target)");
        }
    }
}
