package io.virtfleet.bench;

import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.LibvirtException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * libvirt-java used directly, without virtfleet: the floor of the start and hot-plug latencies, and the clean-up of
 * every domain a bench run created (all of them carry the run's name prefix).
 */
public final class RawLibvirt implements AutoCloseable {
    public static final String URI = "qemu:///system";
    /** Domain names of bench runs: {@code bench-<pid>-<random>-...}. */
    private static final Pattern BENCH_NAME = Pattern.compile("^bench-(\\d+)-[a-z0-9]+-");

    private final Connect conn;

    private RawLibvirt(Connect conn) {
        this.conn = conn;
    }

    public static RawLibvirt open() throws LibvirtException {
        return new RawLibvirt(new Connect(URI));
    }

    /** Why libvirt cannot be used for a guest here, or null when it can. */
    public static String unavailable() {
        for (String f : new String[] {"vmlinuz", "initrd.img"}) {
            if (!Files.isRegularFile(Path.of(TestGuest.DIR, f))) {
                return "the test guest is missing (" + TestGuest.DIR + "/" + f + "): run scripts/build-test-guest";
            }
        }
        try (RawLibvirt lv = open()) {
            lv.conn.getVersion();
            return null;
        } catch (LibvirtException | RuntimeException | UnsatisfiedLinkError e) {
            return "libvirtd (" + URI + ") is not reachable: " + e.getMessage() + " (run scripts/install-libvirt)";
        }
    }

    public Connect connect() {
        return conn;
    }

    /** Defines and starts a domain; returns once libvirt reports it running. */
    public Domain defineAndStart(String xml) throws LibvirtException {
        Domain d = conn.domainDefineXML(xml);
        d.create();
        DomainInfo.DomainState s = d.getInfo().state;
        if (s != DomainInfo.DomainState.VIR_DOMAIN_RUNNING) {
            throw new IllegalStateException("domain " + d.getName() + " is " + s + " right after create()");
        }
        return d;
    }

    public Domain lookup(String name) throws LibvirtException {
        return conn.domainLookupByName(name);
    }

    /** Names of all domains (running and defined) that start with the prefix. */
    public List<String> names(String prefix) throws LibvirtException {
        List<String> out = new ArrayList<>();
        for (int id : conn.listDomains()) {
            try {
                String n = conn.domainLookupByID(id).getName();
                if (n.startsWith(prefix)) {
                    out.add(n);
                }
            } catch (LibvirtException e) {
                // gone meanwhile
            }
        }
        for (String n : conn.listDefinedDomains()) {
            if (n.startsWith(prefix) && !out.contains(n)) {
                out.add(n);
            }
        }
        return out;
    }

    /** Destroys and undefines every domain whose name starts with {@code prefix}; returns how many. */
    public int purge(String prefix) {
        int n = 0;
        try {
            for (String name : names(prefix)) {
                if (destroyAndUndefine(name)) {
                    n++;
                }
            }
        } catch (LibvirtException e) {
            System.err.println("bench: cannot list libvirt domains for clean-up: " + e.getMessage());
        }
        return n;
    }

    public boolean destroyAndUndefine(String name) {
        try {
            Domain d = conn.domainLookupByName(name);
            try {
                if (d.isActive() == 1) {
                    d.destroy();
                }
            } catch (LibvirtException e) {
                // already stopped
            }
            try {
                d.undefine();
            } catch (LibvirtException e) {
                // transient, or already undefined
            }
            return true;
        } catch (LibvirtException e) {
            return false;
        }
    }

    /**
     * Domains left by bench runs whose process is gone (killed before its clean-up ran): their name carries the
     * pid of the run. Destroys and undefines them; returns their names.
     */
    public List<String> purgeOrphans() {
        List<String> out = new ArrayList<>();
        try {
            for (String name : names("bench-")) {
                Matcher m = BENCH_NAME.matcher(name);
                if (m.find() && !Files.exists(Path.of("/proc", m.group(1)))) {
                    if (destroyAndUndefine(name)) {
                        out.add(name);
                    }
                }
            }
        } catch (LibvirtException e) {
            // nothing to do
        }
        return out;
    }

    @Override
    public void close() {
        try {
            conn.close();
        } catch (LibvirtException e) {
            // closing anyway
        }
    }
}
