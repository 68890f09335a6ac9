package io.virtfleet.agent.hotplug;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.agent.AgentMetrics;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.InterfaceDef;
import io.virtfleet.reconcilers.hotplug.DeviceAction;
import io.virtfleet.reconcilers.hotplug.DevicePlanner;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes a running domain's disks and interfaces match its spec live (a Domain's spec change reaches a running guest
 * without a restart, as {@code virsh attach-device --live} would do it by hand), one device at a time, with
 * {@code VIR_DOMAIN_AFFECT_LIVE} (plus {@code _CONFIG} when the persistent config does not have the change yet: the
 * agent usually redefined it already in the same pass).
 *
 * <p>A detach is a request the guest must acknowledge (virtio PCI unplug): the device stays {@code Detaching} in
 * status until it is gone from the live XML, which libvirt's DEVICE_REMOVED event (it re-syncs the domain at once)
 * tells us; after {@link #DETACH_TIMEOUT} it shows {@code DetachTimeout} and the request is repeated. Nothing waits:
 * other devices and other operations go on meanwhile.
 *
 * <p>A failed attach or media change (missing file, duplicate target) leaves the domain and its other devices as they
 * are; the error is returned for the Domain's status and the device shows {@code Failed}.
 */
public final class Hotplugger {
    private static final Logger LOG = LoggerFactory.getLogger(Hotplugger.class);
    public static final Duration DETACH_TIMEOUT = Duration.ofSeconds(30);
    /** When a failed attach or media change is tried again. */
    public static final Duration RETRY_FAILED = Duration.ofSeconds(15);
    /** Synced=False reason (and Warning event) of a failed hot-plug. */
    public static final String REASON_HOTPLUG_FAILED = "HotplugFailed";

    /** The three libvirt calls hot-plug makes (a seam for tests; production: {@link #of(LibvirtConnection)}). */
    public interface DeviceCalls {
        void attach(String uuid, String xml, int flags) throws LibvirtConnection.UnavailableException,
                LibvirtCallException;

        void update(String uuid, String xml, int flags) throws LibvirtConnection.UnavailableException,
                LibvirtCallException;

        void detachAlias(String uuid, String alias, int flags) throws LibvirtConnection.UnavailableException,
                LibvirtCallException;

        /** Detach by the device's XML: for devices without a virtfleet alias (libxl has no detach by alias). */
        void detach(String uuid, String xml, int flags) throws LibvirtConnection.UnavailableException,
                LibvirtCallException;
    }

    /**
     * {@link DeviceCalls} on a libvirt connection; each call counts in
     * {@code virtfleet_agent_hotplug_operations_total{op,result}} (when the connection has meters).
     */
    public static DeviceCalls of(LibvirtConnection c) {
        return new DeviceCalls() {
            @Override
            public void attach(String uuid, String xml, int flags) throws LibvirtConnection.UnavailableException,
                    LibvirtCallException {
                counted(c, "attach", () -> c.attachDevice(uuid, xml, flags));
            }

            @Override
            public void update(String uuid, String xml, int flags) throws LibvirtConnection.UnavailableException,
                    LibvirtCallException {
                counted(c, "update", () -> c.updateDevice(uuid, xml, flags));
            }

            @Override
            public void detachAlias(String uuid, String alias, int flags)
                    throws LibvirtConnection.UnavailableException, LibvirtCallException {
                counted(c, "detach", () -> c.detachDeviceAlias(uuid, alias, flags));
            }

            @Override
            public void detach(String uuid, String xml, int flags) throws LibvirtConnection.UnavailableException,
                    LibvirtCallException {
                counted(c, "detach", () -> c.detachDevice(uuid, xml, flags));
            }
        };
    }

    private interface DeviceCall {
        void run() throws LibvirtConnection.UnavailableException, LibvirtCallException;
    }

    private static void counted(LibvirtConnection c, String op, DeviceCall call)
            throws LibvirtConnection.UnavailableException, LibvirtCallException {
        String result = AgentMetrics.ERROR;
        try {
            call.run();
            result = AgentMetrics.OK;
        } finally {
            if (c.metrics() != null) {
                c.metrics().hotplug(op, result);
            }
        }
    }

    private final DeviceCalls libvirt;
    private final Clock clock;
    private final Duration detachTimeout;
    /** uuid → device key → the pending detach. */
    private final Map<String, Map<String, Pending>> pending = new ConcurrentHashMap<>();
    /** uuid → the device failures of the last pass (shown in status until a pass without them). */
    private final Map<String, List<Failure>> failures = new ConcurrentHashMap<>();
    /** uuid → aliases libvirt reported removed (DEVICE_REMOVED) and not yet seen gone by a pass. */
    private final Map<String, Set<String>> removedEvents = new ConcurrentHashMap<>();

    /** A detach requested and not yet acknowledged. */
    public record Pending(String key, String kind, String alias, String target, String mac, Instant requestedAt,
                          int attempts, boolean timedOut) {
    }

    /** A device-level failure of this pass. */
    public record Failure(String key, String kind, String target, String mac, String source, String message) {
    }

    /**
     * What one pass did: {@code changed} when it called libvirt (re-read the domain), the failures, what still needs a
     * restart, and when to look again (a pending detach's timeout), or null.
     */
    public record Outcome(boolean changed, List<Failure> failures, List<String> restartReasons, Duration requeueAfter,
                          List<String> done) {
        public static final Outcome NOTHING = new Outcome(false, List.of(), List.of(), null, List.of());

        public String error() {
            if (failures.isEmpty()) {
                return null;
            }
            return "hot-plug failed: " + String.join("; ", failures.stream()
                    .map(f -> f.key() + ": " + f.message()).toList());
        }
    }

    public Hotplugger(LibvirtConnection libvirt, Clock clock) {
        this(libvirt == null ? null : of(libvirt), clock, DETACH_TIMEOUT);
    }

    public Hotplugger(DeviceCalls libvirt, Clock clock, Duration detachTimeout) {
        this.libvirt = libvirt;
        this.clock = clock;
        this.detachTimeout = detachTimeout;
    }

    /** libvirt's DEVICE_REMOVED event: the guest acknowledged the unplug of {@code alias}. */
    public void deviceRemoved(String uuid, String alias) {
        removedEvents.computeIfAbsent(uuid, k -> ConcurrentHashMap.newKeySet()).add(alias);
    }

    /** The domain is gone or stopped: nothing is pending any more. */
    public void forget(String uuid) {
        pending.remove(uuid);
        removedEvents.remove(uuid);
        failures.remove(uuid);
    }

    /** The pending detaches of this domain (for status). */
    public List<Pending> pending(String uuid) {
        Map<String, Pending> m = pending.get(uuid);
        return m == null ? List.of() : List.copyOf(m.values());
    }

    /**
     * One pass for a running domain: {@code desired} is spec.domainXml's model (already validated: its paths are
     * under the allowed roots), {@code live}/{@code persistent} what libvirt has now ({@code persistent} null for a
     * transient domain) — the documents the sync pass parsed once.
     */
    public Outcome sync(String ref, String uuid, DomainDef desired, DomainDef live, DomainDef persistent)
            throws LibvirtConnection.UnavailableException {
        return sync(ref, uuid, desired, DevicePlanner.plan(desired, live), persistent);
    }

    /**
     * The fast path of a spec change on a running domain, taken before the persistent config is redefined: the
     * devices are attached and detached with {@code AFFECT_LIVE | AFFECT_CONFIG} (the persistent config lacks the
     * change yet), so the guest sees a new disk without waiting for a define round trip; the redefine that follows
     * finds the config already matching. Returns null, touching nothing, when the plan attaches an interface
     * without a MAC in the spec: that one needs the MAC libvirt generates when the config is defined (the live
     * device must get the same), so it waits for the regular pass after the redefine.
     */
    public Outcome syncBeforeRedefine(String ref, String uuid, DomainDef desired, DomainDef live, DomainDef persistent)
            throws LibvirtConnection.UnavailableException {
        List<DeviceAction> plan = DevicePlanner.plan(desired, live);
        for (DeviceAction a : plan) {
            if (a instanceof DeviceAction.AttachInterface i && i.mac() == null) {
                return null;
            }
        }
        return sync(ref, uuid, desired, plan, persistent);
    }

    private Outcome sync(String ref, String uuid, DomainDef desired, List<DeviceAction> plan, DomainDef config)
            throws LibvirtConnection.UnavailableException {
        Set<String> configPending = new HashSet<>();
        if (config != null) {
            for (DeviceAction a : DevicePlanner.plan(desired, config)) {
                if (a.live()) {
                    configPending.add(a.getClass().getSimpleName() + " " + a.key());
                }
            }
        }
        Map<String, Pending> waiting = pending.computeIfAbsent(uuid, k -> new ConcurrentHashMap<>());
        // Mutable even when no event came: a detach seen gone from the live XML alone is removed from it below.
        Set<String> acked = removedEvents.getOrDefault(uuid, new HashSet<>());
        Set<String> stillLive = new HashSet<>();
        for (DeviceAction a : plan) {
            if (a instanceof DeviceAction.DetachDisk || a instanceof DeviceAction.DetachInterface) {
                stillLive.add(a.key());
            }
        }
        List<String> done = new ArrayList<>();
        for (Pending p : List.copyOf(waiting.values())) {
            if (!stillLive.contains(p.key())) {
                waiting.remove(p.key());
                boolean event = p.alias() != null && acked.remove(p.alias());
                long ms = Duration.between(p.requestedAt(), clock.instant()).toMillis();
                LOG.info("{}: {} {} is gone from the live domain ({}; ~{} ms after the last request)", ref,
                        p.kind(), p.key(), event ? "DEVICE_REMOVED event" : "seen in the live XML", ms);
                done.add("detached " + p.kind() + " " + p.key() + (event ? " (guest acknowledged)" : ""));
            }
        }

        boolean changed = false;
        List<Failure> failures = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        Instant now = clock.instant();
        Duration requeue = null;
        Set<String> detachingTargets = new HashSet<>();
        for (DeviceAction a : plan) {
            int flags = org.libvirt.Domain.DeviceModifyFlags.LIVE
                    | (configPending.contains(a.getClass().getSimpleName() + " " + a.key())
                    ? org.libvirt.Domain.DeviceModifyFlags.CONFIG : 0);
            try {
                if (a instanceof DeviceAction.DetachDisk d) {
                    detachingTargets.add(d.target());
                    Duration wait = detach(ref, uuid, waiting, d.key(), DeviceAction.KIND_DISK, d.alias(),
                            d.target(), null, d.xml(), flags, now);
                    changed |= wait.equals(detachTimeout);
                    requeue = min(requeue, wait);
                } else if (a instanceof DeviceAction.DetachInterface d) {
                    detachingTargets.add(d.target());
                    Duration wait = detach(ref, uuid, waiting, d.key(), DeviceAction.KIND_INTERFACE, d.alias(),
                            d.target(), d.mac(), d.xml(), flags, now);
                    changed |= wait.equals(detachTimeout);
                    requeue = min(requeue, wait);
                } else if (a instanceof DeviceAction.UpdateMedia m) {
                    libvirt.update(uuid, m.xml(), flags);
                    changed = true;
                    LOG.info("{}: cdrom {} ({}) media -> {}", ref, m.key(), m.target(),
                            m.source() == null ? "ejected" : m.source());
                    done.add("cdrom " + m.key() + " media " + (m.source() == null ? "ejected" : m.source()));
                } else if (a instanceof DeviceAction.AttachDisk d) {
                    if (detachingTargets.contains(d.target())) {
                        LOG.info("{}: disk {} waits for {} to be detached", ref, d.key(), d.target());
                        continue;
                    }
                    libvirt.attach(uuid, d.xml(), flags);
                    changed = true;
                    LOG.info("{}: attached disk {} ({}) live", ref, d.key(), d.target());
                    done.add("attached disk " + d.key() + " (" + d.target() + ")");
                } else if (a instanceof DeviceAction.AttachInterface i) {
                    libvirt.attach(uuid, withConfigMac(i, config), flags);
                    changed = true;
                    LOG.info("{}: attached interface {} live", ref, i.key());
                    done.add("attached interface " + i.key());
                } else if (a instanceof DeviceAction.RestartRequired r) {
                    restart.add(r.reason());
                }
            } catch (LibvirtCallException e) {
                String msg = e.getMessage();
                LOG.warn("{}: {} failed: {}", ref, a.getClass().getSimpleName(), msg);
                failures.add(failure(a, msg));
            }
        }
        if (waiting.isEmpty()) {
            pending.remove(uuid);
        }
        removedEvents.remove(uuid);
        if (failures.isEmpty()) {
            this.failures.remove(uuid);
        } else {
            this.failures.put(uuid, List.copyOf(failures));
        }
        return new Outcome(changed, failures, restart, requeue, done);
    }

    /** Requests (or re-requests after the timeout) a detach; returns how long until it should be looked at again. */
    private Duration detach(String ref, String uuid, Map<String, Pending> waiting, String key, String kind,
                            String alias, String target, String mac, String xml, int flags, Instant now)
            throws LibvirtConnection.UnavailableException, LibvirtCallException {
        Pending p = waiting.get(key);
        if (p != null) {
            Duration age = Duration.between(p.requestedAt(), now);
            if (age.compareTo(detachTimeout) < 0) {
                return detachTimeout.minus(age);
            }
            LOG.warn("{}: the guest did not acknowledge the unplug of {} {} within {} s; requesting it again", ref,
                    kind, key, detachTimeout.toSeconds());
        }
        try {
            detachCall(uuid, alias, xml, flags);
        } catch (LibvirtCallException e) {
            // CONFIG may already lack it (redefined this pass), or an unplug is still in progress: retry LIVE only.
            if ((flags & org.libvirt.Domain.DeviceModifyFlags.CONFIG) != 0) {
                detachCall(uuid, alias, xml, org.libvirt.Domain.DeviceModifyFlags.LIVE);
            } else if (p == null) {
                throw e;
            } else {
                LOG.info("{}: repeated unplug request of {} {}: {}", ref, kind, key, e.getMessage());
            }
        }
        waiting.put(key, new Pending(key, kind, alias, target, mac, now, p == null ? 1 : p.attempts() + 1,
                p != null));
        LOG.info("{}: requested the unplug of {} {} ({}){}", ref, kind, key, target,
                p != null ? " again (attempt " + (p.attempts() + 1) + ")" : "");
        return detachTimeout;
    }

    private void detachCall(String uuid, String alias, String xml, int flags)
            throws LibvirtConnection.UnavailableException, LibvirtCallException {
        if (alias != null) {
            try {
                libvirt.detachAlias(uuid, alias, flags);
                return;
            } catch (LibvirtCallException e) {
                // libvirt's libxl driver keeps the aliases but implements no virDomainDetachDeviceAlias
                // (VIR_ERR_NO_SUPPORT): the device's own XML identifies it there.
                if (!e.is(ErrorNumber.VIR_ERR_NO_SUPPORT) || xml == null) {
                    throw e;
                }
            }
        }
        libvirt.detach(uuid, xml, flags);
    }

    /**
     * A NIC whose spec leaves the MAC open: libvirt generated one when the persistent config was defined; the live
     * device gets the same, so the guest keeps its MAC across the next restart.
     */
    static String withConfigMac(DeviceAction.AttachInterface i, DomainDef config) {
        if (i.mac() != null || i.alias() == null || config == null) {
            return i.xml();
        }
        for (InterfaceDef n : config.devices == null ? List.<InterfaceDef>of() : config.devices.interfaces) {
            if (n.alias != null && i.alias().equals(n.alias.name) && n.mac != null && n.mac.address != null) {
                int open = i.xml().indexOf('>');
                return i.xml().substring(0, open + 1) + "<mac address=\"" + n.mac.address + "\"/>"
                        + i.xml().substring(open + 1);
            }
        }
        return i.xml();
    }

    private static Duration min(Duration a, Duration b) {
        return a == null || b.compareTo(a) < 0 ? b : a;
    }

    private static Failure failure(DeviceAction a, String msg) {
        if (a instanceof DeviceAction.AttachDisk d) {
            return new Failure(d.key(), DeviceStatus.KIND_DISK, d.target(), null, null, msg);
        } else if (a instanceof DeviceAction.AttachInterface i) {
            return new Failure(i.key(), DeviceStatus.KIND_INTERFACE, null, i.mac(), null, msg);
        } else if (a instanceof DeviceAction.UpdateMedia m) {
            return new Failure(m.key(), DeviceStatus.KIND_DISK, m.target(), null, m.source(), msg);
        } else if (a instanceof DeviceAction.DetachDisk d) {
            return new Failure(d.key(), DeviceStatus.KIND_DISK, d.target(), null, null, msg);
        } else if (a instanceof DeviceAction.DetachInterface i) {
            return new Failure(i.key(), DeviceStatus.KIND_INTERFACE, i.target(), i.mac(), null, msg);
        }
        return new Failure(null, null, null, null, null, msg);
    }

    /**
     * {@code devices} (read back from the live XML) with the pending detaches marked {@code Detaching} /
     * {@code DetachTimeout}, and the failed attaches of the last pass added as {@code Failed}.
     */
    public List<DeviceStatus> decorate(String uuid, List<DeviceStatus> devices) {
        List<Failure> failures = this.failures.getOrDefault(uuid, List.of());
        List<DeviceStatus> out = new ArrayList<>();
        Map<String, Pending> waiting = pending.getOrDefault(uuid, Map.of());
        Set<String> present = new HashSet<>();
        for (DeviceStatus d : devices == null ? List.<DeviceStatus>of() : devices) {
            DeviceStatus c = new DeviceStatus(d.name, d.kind, d.target, d.mac, d.source, d.state);
            c.message = d.message;
            String key = d.name == null ? null : ApiGroup.DEVICE_ALIAS_PREFIX + d.name;
            Pending p = key == null ? null : waiting.get(key);
            if (p != null) {
                c.state = p.timedOut() ? DeviceStatus.STATE_DETACH_TIMEOUT : DeviceStatus.STATE_DETACHING;
                c.message = p.timedOut() ? "the guest did not acknowledge the unplug within "
                        + detachTimeout.toSeconds() + " s; requested again (attempt " + p.attempts() + ")"
                        : "unplug requested at " + p.requestedAt() + "; waiting for the guest to acknowledge";
            }
            for (Failure f : failures) {
                if (key != null && key.equals(f.key())) {
                    c.state = DeviceStatus.STATE_FAILED;
                    c.message = f.message();
                }
            }
            if (key != null) {
                present.add(key);
            }
            out.add(c);
        }
        for (Failure f : failures) {
            if (f.key() != null && !present.contains(f.key())) {
                String name = f.key().startsWith(ApiGroup.DEVICE_ALIAS_PREFIX)
                        ? f.key().substring(ApiGroup.DEVICE_ALIAS_PREFIX.length()) : null;
                DeviceStatus c = new DeviceStatus(name, f.kind(), f.target(), f.mac(), f.source(),
                        DeviceStatus.STATE_FAILED);
                c.message = f.message();
                out.add(c);
            }
        }
        return out;
    }
}
