package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostNetworking;
import io.virtfleet.api.v1alpha1.HostStatus;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the scheduler needs to know about one Host: its labels, whether it takes new VMs, the drivers it offers, its
 * capacity and until when its heartbeat Lease holds.
 *
 * @param cpus        physical CPUs, null when the agent has not reported them
 * @param memoryBytes physical memory in bytes, null when not reported
 * @param leaseExpiry renewTime + leaseDurationSeconds of the host's heartbeat Lease; null when there is no Lease
 * @param draining    {@code spec.drain}: takes no new VMs, like {@code unschedulable}
 * @param networks    names of the host's active libvirt networks; null when its agent does not report them
 * @param bridges     names of the host's Linux bridges; null when its agent does not report them
 */
public record HostView(String name, Map<String, String> labels, boolean unschedulable, Set<String> drivers,
                       Integer cpus, Long memoryBytes, Instant leaseExpiry, List<String> allowedDiskRoots,
                       String domainPrefix, boolean draining, Set<String> networks, Set<String> bridges) {

    public HostView {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        drivers = drivers == null ? Set.of() : Set.copyOf(drivers);
        allowedDiskRoots = allowedDiskRoots == null ? List.of() : List.copyOf(allowedDiskRoots);
        networks = networks == null ? null : Set.copyOf(networks);
        bridges = bridges == null ? null : Set.copyOf(bridges);
    }

    /** A host that is not draining and does not report its networks. */
    public HostView(String name, Map<String, String> labels, boolean unschedulable, Set<String> drivers,
                    Integer cpus, Long memoryBytes, Instant leaseExpiry, List<String> allowedDiskRoots,
                    String domainPrefix) {
        this(name, labels, unschedulable, drivers, cpus, memoryBytes, leaseExpiry, allowedDiskRoots, domainPrefix,
                false, null, null);
    }

    /** The view of a Host and its heartbeat Lease (either may be null). */
    public static HostView of(Host host, Lease lease) {
        String name = host != null && host.getMetadata() != null ? host.getMetadata().getName() : null;
        Map<String, String> labels = host != null && host.getMetadata() != null ? host.getMetadata().getLabels() : null;
        boolean unschedulable = host != null && host.getSpec() != null && Boolean.TRUE.equals(host.getSpec().unschedulable);
        List<String> roots = host != null && host.getSpec() != null ? host.getSpec().allowedDiskRoots : null;
        String prefix = host != null && host.getSpec() != null ? host.getSpec().domainPrefix : null;
        HostStatus status = host != null ? host.getStatus() : null;
        Set<String> drivers = availableDrivers(status);
        Integer cpus = status != null ? status.cpus : null;
        Long memory = status != null ? bytes(status.memory) : null;
        boolean draining = host != null && host.getSpec() != null && Boolean.TRUE.equals(host.getSpec().drain);
        Set<String> networks = null;
        Set<String> bridges = null;
        if (status != null && status.networking != null) {
            networks = new LinkedHashSet<>();
            for (HostNetworking.Network n : status.networking.networks == null
                    ? List.<HostNetworking.Network>of() : status.networking.networks) {
                if (n != null && n.name != null && Boolean.TRUE.equals(n.active)) {
                    networks.add(n.name);
                }
            }
            bridges = new LinkedHashSet<>();
            for (String b : status.networking.bridges == null ? List.<String>of() : status.networking.bridges) {
                if (b != null) {
                    bridges.add(b);
                }
            }
        }
        return new HostView(name, labels, unschedulable, drivers, cpus, memory, leaseExpiry(lease), roots, prefix,
                draining, networks, bridges);
    }

    /** This view with another Lease expiry (null: no Lease). */
    public HostView withLeaseExpiry(Instant expiry) {
        return new HostView(name, labels, unschedulable, drivers, cpus, memoryBytes, expiry, allowedDiskRoots,
                domainPrefix, draining, networks, bridges);
    }

    /** This view with the networks and bridges its agent reports (null: not reported). */
    public HostView withNetworking(Set<String> networks, Set<String> bridges) {
        return new HostView(name, labels, unschedulable, drivers, cpus, memoryBytes, leaseExpiry, allowedDiskRoots,
                domainPrefix, draining, networks, bridges);
    }

    /** This view draining or not. */
    public HostView withDraining(boolean value) {
        return new HostView(name, labels, unschedulable, drivers, cpus, memoryBytes, leaseExpiry, allowedDiskRoots,
                domainPrefix, value, networks, bridges);
    }

    /** Takes no new VMs: cordoned ({@code spec.unschedulable}) or draining ({@code spec.drain}). */
    public boolean takesNoNewVms() {
        return unschedulable || draining;
    }

    /** Drivers marked available in status.drivers; status.availableDrivers when the list is empty. */
    public static Set<String> availableDrivers(HostStatus status) {
        Set<String> out = new LinkedHashSet<>();
        if (status == null) {
            return out;
        }
        if (status.drivers != null && !status.drivers.isEmpty()) {
            for (HostStatus.HypervisorDriver d : status.drivers) {
                if (d != null && d.name != null && Boolean.TRUE.equals(d.available)) {
                    out.add(d.name.trim());
                }
            }
        } else if (status.availableDrivers != null) {
            for (String d : status.availableDrivers.split(",")) {
                if (!d.isBlank()) {
                    out.add(d.trim());
                }
            }
        }
        return out;
    }

    /** renewTime (or acquireTime) + leaseDurationSeconds, or null when the Lease says nothing usable. */
    public static Instant leaseExpiry(Lease lease) {
        if (lease == null || lease.getSpec() == null || lease.getSpec().getLeaseDurationSeconds() == null) {
            return null;
        }
        ZonedDateTime time = lease.getSpec().getRenewTime() != null ? lease.getSpec().getRenewTime()
                : lease.getSpec().getAcquireTime();
        return time == null ? null : time.toInstant().plusSeconds(lease.getSpec().getLeaseDurationSeconds());
    }

    /**
     * Bytes of a quantity, remembered per spelling: scheduling sums every VM's memory for each decision, and fabric8's
     * BigDecimal conversion was half of the operator's CPU in a 5,000-VM burst (bench/RESULTS.md). Few distinct
     * spellings exist ("128Mi", "4Gi"); the map is cleared if hostile input ever makes it large.
     */
    static Long bytes(Quantity q) {
        if (q == null || q.getAmount() == null || q.getAmount().isBlank()) {
            return null;
        }
        String key = q.getFormat() == null ? q.getAmount() : q.getAmount() + " " + q.getFormat();
        java.util.Optional<Long> known = BYTES.get(key);
        if (known != null) {
            return known.orElse(null);
        }
        Long value;
        try {
            value = Quantity.getAmountInBytes(q).longValue();
        } catch (RuntimeException e) {
            value = null;
        }
        if (BYTES.size() >= MAX_REMEMBERED) {
            BYTES.clear();
        }
        BYTES.put(key, java.util.Optional.ofNullable(value));
        return value;
    }

    private static final int MAX_REMEMBERED = 4096;
    /** Spelling → bytes; empty for a spelling that does not parse. */
    private static final Map<String, java.util.Optional<Long>> BYTES = new java.util.concurrent.ConcurrentHashMap<>();

    /** The heartbeat is fresh: the Lease exists and has not expired at {@code now}. */
    public boolean isReady(Instant now) {
        return leaseExpiry != null && leaseExpiry.isAfter(now);
    }

    public boolean offers(String driver) {
        return drivers.contains(driver);
    }
}
