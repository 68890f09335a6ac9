package io.virtfleet.e2e.support;

import io.virtfleet.controlplane.RepoRoot;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A real Xen host on this machine (scripts/xen-host): Xen 4.17 with a Debian dom0, booted as a plain QEMU/TCG
 * process (not a domain of the machine's libvirtd), whose libvirtd (libxl driver) is reached over a loopback port
 * forward at {@code xen+tcp://127.0.0.1:PORT/system}. Guest files live in {@link #share()}, a directory of this
 * machine that dom0 mounts at the same path, so the agent's allowed-roots checks see the files Xen opens.
 *
 * <p>One per JVM: booting dom0 under software emulation takes a minute or more, so every test class shares it and
 * a shutdown hook powers it off when the JVM ends.
 *
 * @param name  the host's name for scripts/xen-host
 * @param uri   dom0's libvirt, e.g. {@code xen+tcp://127.0.0.1:41234/system}
 * @param share the directory shared with dom0 at the same path: the Xen host's allowed root
 */
public record XenHost(String name, String uri, Path share) {
    private static final Path SCRIPT = RepoRoot.require().resolve("scripts/xen-host");
    /** Generous: a cold machine builds the dom0 image first (scripts/build-xen-host), then boots it under TCG. */
    private static final Duration START_TIMEOUT = Duration.ofMinutes(20);
    /**
     * The demo's name too (examples/demo-xen.yaml's paths are under its share): {@code ./virtfleet demo --hypervisor
     * xen} run by a test finds this host running and boots no second one.
     */
    public static final String NAME = "demo";
    private static XenHost shared;

    /** The JVM's Xen host, started (built, booted) on first use. */
    public static synchronized XenHost shared() {
        if (shared == null) {
            LibvirtGuest.Result r = LibvirtGuest.run(START_TIMEOUT, SCRIPT.toString(), "start", NAME);
            String[] lines = r.output().strip().split("\n");
            String uri = lines[lines.length - 1].strip();
            if (!r.ok() || !uri.startsWith("xen+tcp://127.0.0.1:")) {
                throw new IllegalStateException("scripts/xen-host start " + NAME + " failed (exit " + r.exitCode()
                        + "):\n" + r.output());
            }
            Path share = Path.of(LibvirtGuest.run(Duration.ofSeconds(10), SCRIPT.toString(), "share", NAME)
                    .output().strip());
            shared = new XenHost(NAME, uri, share);
            Runtime.getRuntime().addShutdownHook(new Thread(() ->
                    LibvirtGuest.run(Duration.ofSeconds(60), SCRIPT.toString(), "stop", NAME), "xen-host-stop"));
        }
        return shared;
    }

    /** The test guest's kernel, initramfs and data disk template, copied into the share by scripts/xen-host. */
    public Path testGuest() {
        return share.resolve("images/test-guest");
    }

    /** xenconsoled's log of a guest's PV console (dom0 writes it into the share). */
    public Path consoleLog(String libvirtName) {
        return share.resolve("console/guest-" + libvirtName + ".log");
    }

    /** dom0's /var/log (libvirtd.log, xen/xl-*.log), for failure messages. */
    public Path dom0Logs() {
        return share.resolve("dom0-log");
    }
}
