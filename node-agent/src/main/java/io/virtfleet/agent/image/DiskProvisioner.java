package io.virtfleet.agent.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

/**
 * Carries out {@link DiskPlans} steps. Each disk is created as {@code PATH.creating} and renamed into place, so a
 * crash mid-way never leaves a half-made disk the next pass would take for the VM's data.
 */
public final class DiskProvisioner {
    private final ImageCache cache;
    private final QemuImg qemuImg;

    public DiskProvisioner(ImageCache cache, Duration timeout) {
        this.cache = cache;
        this.qemuImg = new QemuImg(timeout);
    }

    public void apply(List<DiskPlans.Step> steps, ImageCache.Progress progress) throws ImageCache.ImageException {
        for (DiskPlans.Step s : steps) {
            if (s instanceof DiskPlans.Fetch f) {
                cache.ensure(f.url(), f.sha256(), f.format(), progress);
            } else if (s instanceof DiskPlans.Overlay o) {
                Path base = cache.basePath(o.sha256(), o.baseFormat());
                String name = base.getFileName().toString();
                // Under the base's lock: the cache keeper cannot delete it while the overlay is made, and the use
                // noted here keeps it for the keeper's grace period, until libvirt has the domain that reads it.
                try (ImageCache.Held ignored = cache.hold(name)) {
                    if (!Files.isRegularFile(base)) {
                        throw new ImageCache.ImageException("disk " + o.disk() + ": base " + base + " is not cached");
                    }
                    cache.used(name);
                    create(o.disk(), o.path(), List.of("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F",
                            o.baseFormat()));
                }
            } else if (s instanceof DiskPlans.Blank b) {
                create(b.disk(), b.path(), List.of("create", "-q", "-f", b.format()), Long.toString(b.bytes()));
            }
        }
    }

    /**
     * Why the existing qcow2 file must not be opened ({@link BackingFiles#problem}: its header names a backing file
     * outside the image cache), or null. Read with {@code -f qcow2}, never probed.
     */
    public String backingProblem(String path) {
        try {
            return BackingFiles.problem(path, qemuImg.backingFile(path, "qcow2"), cache.root().toString());
        } catch (IOException e) {
            return "cannot read the qcow2 header of " + path + ": " + e.getMessage();
        }
    }

    private void create(String disk, String path, List<String> args, String... tail) throws ImageCache.ImageException {
        Path target = Path.of(path);
        Path tmp = Path.of(path + ".creating");
        try {
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(tmp);
            List<String> cmd = new java.util.ArrayList<>(args);
            cmd.add(tmp.toString());
            cmd.addAll(List.of(tail));
            qemuImg.run(cmd);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new ImageCache.ImageException("disk " + disk + ": cannot create " + path + ": " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // only renamed files are used
            }
        }
    }
}
