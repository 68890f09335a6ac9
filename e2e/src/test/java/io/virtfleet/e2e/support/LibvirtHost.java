package io.virtfleet.e2e.support;

import io.virtfleet.controlplane.RepoRoot;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A libvirt "host" of its own on this machine (scripts/libvirt-host): a libvirtd and a virtlogd in a mount namespace
 * with private /run/libvirt, /var/lib/libvirt, /etc/libvirt and a host UUID of their own — libvirt refuses a live
 * migration to a daemon with the same host UUID — reached by {@code qemu+unix:///system?socket=…}. Everything else,
 * /var/lib/virtfleet included, is the machine's: the hosts share that storage. {@link #close()} destroys what still
 * runs there and removes the daemon's state.
 */
public final class LibvirtHost implements AutoCloseable {
    private static final Path SCRIPT = RepoRoot.require().resolve("scripts/libvirt-host");
    private final String name;
    private final String uri;

    private LibvirtHost(String name, String uri) {
        this.name = name;
        this.uri = uri;
    }

    /** Starts (or finds running) the libvirt host {@code name} (1-16 of [a-z0-9-]). */
    public static LibvirtHost start(String name) {
        LibvirtGuest.Result r = LibvirtGuest.run(Duration.ofSeconds(120), SCRIPT.toString(), "start", name);
        String[] lines = r.output().strip().split("\n");
        String uri = lines[lines.length - 1].strip();
        if (!r.ok() || !uri.startsWith("qemu+unix://")) {
            throw new IllegalStateException("scripts/libvirt-host start " + name + " failed: " + r.output());
        }
        return new LibvirtHost(name, uri);
    }

    public String name() {
        return name;
    }

    public String uri() {
        return uri;
    }

    /** Where the libvirtd at {@code uri} keeps QEMU's pid files, seen from this (the machine's) namespace. */
    public static Path pidDir(String uri) {
        int i = uri.indexOf("socket=");
        if (i < 0) {
            return Path.of("/run/libvirt/qemu");
        }
        return Path.of(uri.substring(i + "socket=".length())).getParent().resolve("qemu");
    }

    /** scripts/libvirt-host's state directory of this host ({@code /run/vfhost/NAME}). */
    public Path root() {
        return Path.of("/run/vfhost", name);
    }

    /** The pid of its libvirtd, -1 when there is no pid file (stopped). */
    public long daemonPid() {
        try {
            return Long.parseLong(java.nio.file.Files.readString(root().resolve("libvirtd.pid")).trim());
        } catch (java.io.IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** Its /var/lib/libvirt/qemu (save, nvram and snapshot metadata), seen from this namespace. */
    public Path qemuStateDir() {
        return root().resolve("lib/qemu");
    }

    /**
     * Starts its libvirtd again after a kill (scripts/libvirt-host start is idempotent): a new mount namespace with
     * the same private directories, so the new daemon finds the running QEMU processes' monitor sockets and pid files
     * and reconnects to them.
     */
    public void restartDaemon() {
        LibvirtGuest.Result r = LibvirtGuest.run(Duration.ofSeconds(180), SCRIPT.toString(), "start", name);
        if (!r.ok()) {
            throw new IllegalStateException("scripts/libvirt-host start " + name + " failed: " + r.output());
        }
    }

    /**
     * How many clients its libvirtd has connected right now ({@code virt-admin srv-clients-list libvirtd} on its
     * admin socket), -1 when it does not answer: the soak's measure of leaked libvirt connections.
     */
    public int clientCount() {
        String admin = "libvirtd:///system?socket=" + root().resolve("run/libvirt-admin-sock");
        LibvirtGuest.Result r = LibvirtGuest.run(Duration.ofSeconds(30), "virt-admin", "-c", admin,
                "srv-clients-list", "libvirtd");
        if (!r.ok()) {
            return -1;
        }
        // a header line, a dashes line, then one line per client starting with its id
        return (int) r.output().lines().filter(l -> l.strip().matches("\\d+\\s+.*")).count();
    }

    /** Kills the libvirtd only (its QEMU processes keep running), as a crash would. */
    public void killDaemon() {
        LibvirtGuest.run(Duration.ofSeconds(30), SCRIPT.toString(), "kill", name);
    }

    @Override
    public void close() {
        LibvirtGuest.run(Duration.ofSeconds(60), SCRIPT.toString(), "stop", name);
    }
}
