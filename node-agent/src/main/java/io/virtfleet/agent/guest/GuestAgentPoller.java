package io.virtfleet.agent.guest;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import org.libvirt.Domain;
import org.libvirt.DomainInterface;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Asks the guest agents of this host's running domains what they report, off the Domain loop's workers: a Domain
 * pass takes the last {@link GuestView.Reading} ({@link #reading}) and, when it is due, starts a new one on this
 * poller's own threads; a finished reading enqueues the Domain again ({@code onReading}), whose pass then records it
 * (the status is written only when it changed).
 *
 * <p>Every agent command has a timeout: {@code virDomainQemuAgentCommand} with {@link #COMMAND_TIMEOUT_SECONDS},
 * {@code virDomainInterfaceAddresses} with libvirt's default agent timeout (5 s unless set per domain with
 * virDomainAgentSetResponseTimeout), so a hung guest agent holds one poller thread for seconds, never a worker.
 */
public final class GuestAgentPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GuestAgentPoller.class);
    /** Seconds qemu-guest-agent gets per command (libvirt's {@code timeout} argument). */
    static final int COMMAND_TIMEOUT_SECONDS = 5;

    /** One round of questions to a domain's guest agent (the seam the unit test replaces). */
    interface Query {
        GuestView.Reading ask(String uuid) throws LibvirtConnection.UnavailableException;
    }

    private final LibvirtConnection libvirt;
    private final Clock clock;
    private final Consumer<String> onReading;
    private final Query query;
    private final Map<String, GuestView.Reading> readings = new ConcurrentHashMap<>();
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    /** Domains forgotten while a reading was in flight: that reading is dropped when it ends, not kept. */
    private final Set<String> stale = ConcurrentHashMap.newKeySet();
    private final ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "virtfleet-guest-agent");
        t.setDaemon(true);
        return t;
    });

    public GuestAgentPoller(LibvirtConnection libvirt, Clock clock, Consumer<String> onReading) {
        this(libvirt, clock, onReading, null);
    }

    GuestAgentPoller(LibvirtConnection libvirt, Clock clock, Consumer<String> onReading, Query query) {
        this.libvirt = libvirt;
        this.clock = clock;
        this.onReading = onReading;
        this.query = query != null ? query : this::query;
    }

    /**
     * The last reading of the domain's agent (null: none yet); when {@code connected} and the reading is due, a new
     * one is started. A domain that is not running or whose channel is not connected forgets its reading.
     */
    public GuestView.Reading reading(String uuid, boolean connected) {
        if (!connected) {
            forget(uuid);
            return null;
        }
        GuestView.Reading last = readings.get(uuid);
        if (GuestView.due(last, clock.instant()) && inFlight.add(uuid)) {
            try {
                threads.execute(() -> read(uuid));
            } catch (RejectedExecutionException e) {
                inFlight.remove(uuid);
            }
        }
        return last;
    }

    public synchronized void forget(String uuid) {
        if (inFlight.contains(uuid)) {
            stale.add(uuid);
        }
        readings.remove(uuid);
    }

    private void read(String uuid) {
        GuestView.Reading r;
        try {
            r = query.ask(uuid);
        } catch (LibvirtConnection.UnavailableException e) {
            synchronized (this) {
                stale.remove(uuid);
                inFlight.remove(uuid);
            }
            return; // libvirt is down: the reconnect resyncs every Domain
        } catch (RuntimeException e) {
            r = new GuestView.Reading(clock.instant(), List.of(), null, null, e.toString());
        }
        // A reading that ends after its domain's channel went away (or the domain stopped) describes a guest agent
        // that is gone: dropped, so the status does not show it again until a new reading.
        synchronized (this) {
            inFlight.remove(uuid);
            if (stale.remove(uuid)) {
                return;
            }
            readings.put(uuid, r);
        }
        onReading.accept(uuid);
    }

    /** One round of questions to the domain's agent; a failure is a reading with its error. */
    GuestView.Reading query(String uuid) throws LibvirtConnection.UnavailableException {
        try {
            return libvirt.call("guest-agent", c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                List<GuestReplies.RawInterface> ifaces = new ArrayList<>();
                for (DomainInterface i : d.interfaceAddresses(
                        Domain.InterfaceAddressesSource.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 0)) {
                    List<String> addrs = new ArrayList<>();
                    if (i.addrs != null) {
                        for (DomainInterface.InterfaceAddress a : i.addrs) {
                            addrs.add(a.address.getHostAddress() + "/" + a.prefixLength);
                        }
                    }
                    ifaces.add(new GuestReplies.RawInterface(i.name, i.hwAddr, addrs));
                }
                String osinfo = optional(d, "{\"execute\":\"guest-get-osinfo\"}");
                String hostname = optional(d, "{\"execute\":\"guest-get-host-name\"}");
                return new GuestView.Reading(clock.instant(), ifaces, osinfo, hostname, null);
            });
        } catch (LibvirtCallException e) {
            LOG.debug("guest agent of {}: {}", uuid, e.getMessage());
            return new GuestView.Reading(clock.instant(), List.of(), null, null, e.getMessage());
        }
    }

    /** A command older agents may lack (guest-get-osinfo came with QEMU 2.10): its failure is a missing field. */
    private static String optional(Domain d, String command) {
        try {
            return d.qemuAgentCommand(command, COMMAND_TIMEOUT_SECONDS, 0);
        } catch (org.libvirt.LibvirtException | LinkageError e) {
            // LinkageError: libvirt-java binds virDomainQemuAgentCommand from libvirt-qemu.so.0, which may be absent
            LOG.debug("{}: {}", command, e.getMessage());
            return null;
        }
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
