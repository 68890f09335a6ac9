package io.virtfleet.bench;

import io.virtfleet.reconcilers.render.HostInfo;
import org.libvirt.Domain;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scenario 2: hot-plug latency — apply (a disk added to the VM spec) → the disk in the domain's live XML, against a
 * raw libvirt-java {@code attachDeviceFlags(LIVE)} of the same device XML.
 *
 * <p>TODO(hot-plug): the virtfleet half is not written yet — the hot-plug feature is being built right now
 * ({@code reconcilers/.../hotplug} does not exist as of this writing). To fill it in:
 * <ol>
 *   <li>start a {@link VirtfleetStack} ({@code VirtfleetStack.start(ctx, "hotplug", false)}), apply one test-guest
 *       VM and wait for Ready (see {@link StartLatency});</li>
 *   <li>per repetition: copy {@link #diskXml}'s image, re-apply the VM with an extra virtio disk (volume path under
 *       /var/lib/virtfleet, {@code serial: bench-N}), take the time before the apply, and poll the libvirt domain's
 *       live XML ({@code RawLibvirt.lookup(name).getXMLDesc(0)}) every 5 ms until the disk's source path appears —
 *       or, if the agent reports it, wait for {@code VM.status.devices[name].state} attached;</li>
 *   <li>remove the disk from the spec and wait until it is gone from the live XML (not timed);</li>
 *   <li>report P50/P95 and the ratio against {@code floor_p50_ms} below, as scenario 1 does.</li>
 * </ol>
 * The floor half below already runs (quick and full sizes), so the other engineer only adds the virtfleet half.
 */
public final class HotplugLatency implements Scenario {
    public static final String HOTPLUG_PACKAGE = "io/virtfleet/reconcilers/hotplug/";
    private static final int AFFECT_LIVE = 1;
    private static final String RUN_DIR = "/var/lib/virtfleet/run";

    @Override
    public String name() {
        return "hotplug";
    }

    @Override
    public Report run(BenchContext ctx) throws Exception {
        Size size = ctx.size();
        int reps = size.pick(0, 3, 10);
        boolean present = HotplugLatency.class.getClassLoader().getResource(HOTPLUG_PACKAGE) != null;
        Report r = new Report(name(), "apply → disk in live XML vs raw libvirt-java attach (virtfleet half: TODO)");
        r.status(Report.TODO).put("hotplug_package_present", present).put("reps", reps)
                .put("p50_ms", null).put("p95_ms", null)
                .put("todo", "virtfleet half not implemented: the hot-plug feature is being built (see "
                        + "HotplugLatency's javadoc for the steps)");
        String why = RawLibvirt.unavailable();
        if (reps == 0 || why != null) {
            r.note(reps == 0 ? "tiny size: the floor is not measured" : "floor not measured: " + why);
            r.note("virtfleet half: TODO (hot-plug feature in progress" + (present ? "; its package is present now"
                    : "; reconcilers/.../hotplug does not exist yet") + ")");
            return r;
        }
        List<Double> floor = floor(ctx, reps);
        double p50 = Stats.percentile(floor, 50);
        double p95 = Stats.percentile(floor, 95);
        r.header("path", "n", "P50 ms", "P95 ms", "max ms");
        r.row("floor: libvirt-java attachDeviceFlags(LIVE) → in live XML", floor.size(), p50, p95, Stats.max(floor));
        r.row("virtfleet: apply → disk in live XML", "TODO", "-", "-", "-");
        r.put("floor_p50_ms", Stats.round(p50, 1)).put("floor_p95_ms", Stats.round(p95, 1))
                .put("floor_max_ms", Stats.round(Stats.max(floor), 1));
        r.note("floor: a virtio qcow2 disk attached live to a booted test guest (128 MiB, TCG), timed from the call "
                + "until its source appears in virDomainGetXMLDesc; detached again between repetitions (untimed)");
        r.note("virtfleet half: TODO (hot-plug feature in progress" + (present ? "; its package is present now"
                : "; reconcilers/.../hotplug does not exist yet") + ")");
        return r;
    }

    /** The device XML the floor attaches (and the virtfleet half should produce the equivalent of). */
    static String diskXml(Path image, String target, String serial) {
        return "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='" + image
                + "'/><target dev='" + target + "' bus='virtio'/><serial>" + serial + "</serial></disk>";
    }

    private static List<Double> floor(BenchContext ctx, int reps) throws Exception {
        String prefix = ctx.domainPrefix() + "hpfloor-";
        Path image = Path.of(TestGuest.ALLOWED_ROOT, "images", ctx.domainPrefix() + "hotplug.qcow2");
        List<Double> out = new ArrayList<>();
        Path consoleLog = null;
        try (RawLibvirt lv = RawLibvirt.open()) {
            Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "16M")
                    .redirectErrorStream(true).start();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("qemu-img create failed: "
                        + new String(p.getInputStream().readAllBytes()));
            }
            // With a serial console log, to wait for the guest's boot: an unplug request sent before the guest's
            // ACPI is up is never acknowledged.
            HostInfo host = new HostInfo(ctx.name("floor-host"), List.of(TestGuest.ALLOWED_ROOT), prefix, RUN_DIR,
                    null);
            String domainXml = TestGuest.renderedXml("floor", "hotplug", 128, host);
            Matcher m = Pattern.compile("<log file=['\"]([^'\"]+)['\"]").matcher(domainXml);
            if (!m.find()) {
                throw new IllegalStateException("the rendered test guest has no serial console log");
            }
            consoleLog = Path.of(m.group(1));
            Domain d = lv.defineAndStart(domainXml);
            awaitLine(consoleLog, "VIRTFLEET-GUEST-READY", 120);
            String xml = diskXml(image, "vdb", "bench-hotplug");
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                d.attachDeviceFlags(xml, AFFECT_LIVE);
                while (!d.getXMLDesc(0).contains(image.toString())) {
                    Thread.sleep(5);
                }
                out.add((System.nanoTime() - t0) / 1e6);
                d.detachDeviceFlags(xml, AFFECT_LIVE);
                // The guest acknowledges the unplug (ACPI hot-plug) once it has booted: the first can take ~10 s.
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (d.getXMLDesc(0).contains(image.toString())) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the guest did not release the hot-plugged disk in 60 s");
                    }
                    Thread.sleep(20);
                }
            }
        } finally {
            try (RawLibvirt lv = RawLibvirt.open()) {
                lv.purge(prefix);
            }
            Files.deleteIfExists(image);
            if (consoleLog != null) {
                Files.deleteIfExists(consoleLog);
            }
        }
        return out;
    }

    private static void awaitLine(Path log, String text, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .contains(text)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the guest did not print " + text + " in " + log + " within " + seconds + " s");
    }
}
