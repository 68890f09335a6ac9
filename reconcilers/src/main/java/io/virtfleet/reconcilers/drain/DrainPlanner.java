package io.virtfleet.reconcilers.drain;

import io.virtfleet.api.v1alpha1.EvictionStrategy;
import io.virtfleet.api.v1alpha1.HostDrainStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus;
import io.virtfleet.reconcilers.lifecycle.Note;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a host's drain ({@code Host.spec.drain}) does next, and what {@code Host.status.drain} says. Pure: the
 * operator's DrainController observes the Host, the VMs assigned to it and the drain's VirtualMachineMigrations, and
 * carries out the plan.
 *
 * <p>Per running VM, by its {@code spec.evictionStrategy}: {@code LiveMigrate} (the default) gets one
 * VirtualMachineMigration with no target host (the scheduler picks one; a draining host is never chosen), named
 * after the VM and the drain, so a repeated pass or a restarted operator finds it instead of making another; a
 * refused or failed migration is reported with its error and tried again after {@link #retryDelay} (capacity may
 * free up, another host may come back); {@code Stop} is stopped by the VM's own controller while the host drains;
 * {@code None} stays and is reported. A VM that does not run stays assigned to the host and blocks nothing.
 *
 * <p>The drain's id is recorded in the status before its first migration is created (record, then act). Phases:
 * {@code Draining} while something is in progress, {@code Drained} when no VM runs on the host any more,
 * {@code Incomplete} when VMs still run there and nothing is in progress (each listed NotMoved with the reason).
 * Undrain (spec.drain removed or false): the status goes, unfinished drain migrations are deleted (which cancels
 * them: the VM stays where it runs) and VMs the drain stopped start again (their controller sees the host no longer
 * drains).
 */
public final class DrainPlanner {
    /** First wait before a failed drain migration is tried again; doubles per attempt up to {@link #RETRY_MAX}. */
    public static final Duration RETRY_BASE = Duration.ofSeconds(30);
    public static final Duration RETRY_MAX = Duration.ofMinutes(10);
    /** Polling while something is in progress, and while waiting for new VMs on a drained host. */
    public static final Duration POLL_ACTIVE = Duration.ofSeconds(2);
    public static final Duration POLL_IDLE = Duration.ofSeconds(30);

    /** Event reasons on the Host. */
    public static final String DRAINING = "Draining";
    public static final String DRAINED = "Drained";
    public static final String DRAIN_INCOMPLETE = "DrainIncomplete";
    public static final String UNDRAINED = "Undrained";

    /**
     * A VM whose Domain names this host.
     *
     * @param running   libvirt reports it running or paused (or a start is pending): it needs to leave
     * @param migration the name of a VirtualMachineMigration the Domain carries (any, the drain's or a user's)
     */
    public record Vm(String namespace, String name, EvictionStrategy evictionStrategy, boolean running,
                     String migration) {
        String ref() {
            return namespace + "/" + name;
        }
    }

    /** A VirtualMachineMigration labelled with this host's drain. */
    public record Migration(String namespace, String name, String vmName, String drainId, String phase,
                            String targetHost, String error, Instant endTime, boolean deleting) {
        public boolean finished() {
            return VirtualMachineMigrationStatus.SUCCEEDED.equals(phase)
                    || VirtualMachineMigrationStatus.FAILED.equals(phase);
        }

        String vmRef() {
            return namespace + "/" + vmName;
        }
    }

    /**
     * @param drain    {@code Host.spec.drain}
     * @param previous {@code Host.status.drain}, null when absent
     */
    public record Input(String host, boolean drain, HostDrainStatus previous, List<Vm> vms,
                        List<Migration> migrations, Instant now) {
    }

    /** A VirtualMachineMigration to create: {@code spec.vmName} in {@code namespace}, labelled for the drain. */
    public record Create(String namespace, String name, String vmName, String drainId) {
    }

    /**
     * @param status     what Host.status.drain should be (null: remove it)
     * @param record     the status must be written before anything in {@code create} is done (a new drain id)
     * @param delete     migrations to delete: unfinished ones on undrain (cancelling them), superseded failed ones
     * @param retryAfter when to look again (null: only on a change)
     */
    public record Plan(HostDrainStatus status, boolean record, List<Create> create, List<Migration> delete,
                       List<Note> notes, Duration retryAfter) {
    }

    private DrainPlanner() {
    }

    public static Plan plan(Input in) {
        HostDrainStatus prev = in.previous();
        if (!in.drain()) {
            List<Migration> cancel = new ArrayList<>();
            for (Migration m : in.migrations()) {
                if (!m.finished() && !m.deleting()) {
                    cancel.add(m);
                }
            }
            List<Note> notes = new ArrayList<>();
            if (prev != null) {
                notes.add(Note.normal(UNDRAINED, "host " + in.host() + " undrained: it takes new VMs again"
                        + (cancel.isEmpty() ? "" : "; cancelling " + cancel.size() + " unfinished migration(s)")
                        + "; VMs the drain stopped start again"));
            }
            return new Plan(null, prev != null, List.of(), cancel, notes,
                    cancel.isEmpty() ? null : POLL_ACTIVE);
        }

        if (prev == null || prev.id == null || prev.id.isBlank()) {
            // Record the drain before the first migration: its id names and labels every migration it makes.
            HostDrainStatus st = new HostDrainStatus();
            st.id = Long.toString(in.now().getEpochSecond(), 36);
            st.phase = HostDrainStatus.DRAINING;
            st.startTime = in.now().toString();
            st.message = "starting: " + in.vms().stream().filter(Vm::running).count() + " running VM(s) on the host";
            return new Plan(st, true, List.of(), List.of(), List.of(Note.normal(DRAINING, "draining host "
                    + in.host() + ": no new VMs; moving its running VMs away per their evictionStrategy")),
                    Duration.ZERO);
        }
        String id = prev.id;

        // The drain's migrations, per VM, newest attempt last.
        Map<String, List<Migration>> byVm = new HashMap<>();
        for (Migration m : in.migrations()) {
            if (id.equals(m.drainId()) && m.vmName() != null) {
                byVm.computeIfAbsent(m.vmRef(), k -> new ArrayList<>()).add(m);
            }
        }
        byVm.values().forEach(l -> l.sort(Comparator.comparingInt(m -> attempt(m.name()))));

        List<HostDrainStatus.Vm> entries = new ArrayList<>();
        List<Create> create = new ArrayList<>();
        List<Migration> delete = new ArrayList<>();
        Duration retry = null;
        int migrating = 0;
        int stopping = 0;
        int notMoved = 0;
        int stopped = 0;
        List<String> here = new ArrayList<>();
        for (Vm vm : in.vms()) {
            here.add(vm.ref());
            EvictionStrategy strategy = vm.evictionStrategy() == null ? EvictionStrategy.LiveMigrate
                    : vm.evictionStrategy();
            List<Migration> attempts = byVm.getOrDefault(vm.ref(), List.of());
            Migration last = attempts.isEmpty() ? null : attempts.get(attempts.size() - 1);
            HostDrainStatus.Vm e = new HostDrainStatus.Vm(vm.namespace(), vm.name(), strategy.name(), null,
                    last != null ? last.name() : null, null, null);
            entries.add(e);
            if (!vm.running()) {
                e.state = HostDrainStatus.Vm.STOPPED;
                e.message = strategy == EvictionStrategy.Stop
                        ? "stopped for the drain (evictionStrategy Stop); it starts again after the undrain"
                        : "not running: stays assigned to the host";
                stopped++;
                continue;
            }
            switch (strategy) {
                case None -> {
                    e.state = HostDrainStatus.Vm.NOT_MOVED;
                    e.message = "evictionStrategy None: left running on the host";
                    notMoved++;
                }
                case Stop -> {
                    e.state = HostDrainStatus.Vm.STOPPING;
                    e.message = "evictionStrategy Stop: stopping it until the undrain";
                    stopping++;
                }
                case LiveMigrate -> {
                    if (vm.migration() != null && (last == null || !vm.migration().equals(last.name()))) {
                        // Someone else's migration of it is under way: wait for it.
                        e.state = HostDrainStatus.Vm.MIGRATING;
                        e.migration = vm.migration();
                        e.message = "being moved by VirtualMachineMigration " + vm.migration();
                        migrating++;
                    } else if (last != null && !last.finished()) {
                        e.state = HostDrainStatus.Vm.MIGRATING;
                        e.message = last.phase == null ? "migration requested" : "migration " + last.phase;
                        migrating++;
                    } else if (last != null && VirtualMachineMigrationStatus.SUCCEEDED.equals(last.phase())) {
                        // Succeeded, but the Domain still names this host: the re-pointing is on its way.
                        e.state = HostDrainStatus.Vm.MIGRATING;
                        e.message = "migrated to host " + last.targetHost() + "; waiting for its Domain to follow";
                        migrating++;
                    } else {
                        int n = attempts.size();
                        Instant due = last == null || last.endTime() == null ? in.now()
                                : last.endTime().plus(retryDelay(n));
                        if (!due.isAfter(in.now())) {
                            String name = migrationName(vm.name(), id, n + 1);
                            create.add(new Create(vm.namespace(), name, vm.name(), id));
                            e.state = HostDrainStatus.Vm.MIGRATING;
                            e.migration = name;
                            e.message = n == 0 ? "migration requested" : "migration requested again (attempt "
                                    + (n + 1) + ")" + (last.error() != null ? "; last: " + last.error() : "");
                            migrating++;
                            // Keep only the latest failed attempt.
                            for (Migration old : attempts) {
                                if (old.finished() && !old.deleting()) {
                                    delete.add(old);
                                }
                            }
                        } else {
                            e.state = HostDrainStatus.Vm.NOT_MOVED;
                            e.message = (last.error() != null ? last.error() : "the migration failed")
                                    + " (tried " + n + " time" + (n == 1 ? "" : "s") + "; again at " + due + ")";
                            e.retryTime = due.toString();
                            notMoved++;
                            Duration wait = Duration.between(in.now(), due);
                            retry = retry == null || wait.compareTo(retry) < 0 ? wait : retry;
                        }
                    }
                }
                default -> throw new IllegalStateException(strategy.name());
            }
        }
        // VMs the drain moved away (their Domains name another host now).
        int migrated = 0;
        for (Map.Entry<String, List<Migration>> m : byVm.entrySet()) {
            Migration last = m.getValue().get(m.getValue().size() - 1);
            if (!here.contains(m.getKey()) && VirtualMachineMigrationStatus.SUCCEEDED.equals(last.phase())) {
                entries.add(new HostDrainStatus.Vm(last.namespace(), last.vmName(), EvictionStrategy.LiveMigrate.name(),
                        HostDrainStatus.Vm.MIGRATED, last.name(), last.targetHost(), "moved to host "
                        + last.targetHost()));
                migrated++;
            }
        }
        entries.sort(Comparator.comparing((HostDrainStatus.Vm v) -> v.namespace).thenComparing(v -> v.name));

        HostDrainStatus st = new HostDrainStatus();
        st.id = id;
        st.startTime = prev.startTime;
        st.vms = entries;
        boolean busy = migrating > 0 || stopping > 0;
        st.phase = busy ? HostDrainStatus.DRAINING : notMoved > 0 ? HostDrainStatus.INCOMPLETE : HostDrainStatus.DRAINED;
        st.completionTime = HostDrainStatus.DRAINED.equals(st.phase)
                ? (HostDrainStatus.DRAINED.equals(prev.phase) && prev.completionTime != null ? prev.completionTime
                : in.now().toString()) : null;
        st.message = summary(entries.size(), migrated, migrating, stopping, stopped, notMoved);

        List<Note> notes = new ArrayList<>();
        if (!Objects.equals(prev.phase, st.phase) || (HostDrainStatus.INCOMPLETE.equals(st.phase)
                && !Objects.equals(notMovedRefs(prev), notMovedRefs(st)))) {
            if (HostDrainStatus.DRAINED.equals(st.phase)) {
                notes.add(Note.normal(DRAINED, "host " + in.host() + " drained: " + st.message));
            } else if (HostDrainStatus.INCOMPLETE.equals(st.phase)) {
                notes.add(Note.warning(DRAIN_INCOMPLETE, "host " + in.host() + ": " + st.message + ": "
                        + String.join("; ", entries.stream().filter(v -> HostDrainStatus.Vm.NOT_MOVED.equals(v.state))
                        .map(v -> v.namespace + "/" + v.name + ": " + v.message).toList())));
            }
        }
        Duration again = busy || !create.isEmpty() ? POLL_ACTIVE : retry != null && retry.compareTo(POLL_IDLE) < 0
                ? retry : POLL_IDLE;
        return new Plan(st, false, create, delete, notes, again);
    }

    /** Wait after {@code attempts} failed attempts. */
    public static Duration retryDelay(int attempts) {
        if (attempts <= 0) {
            return Duration.ZERO;
        }
        long s = RETRY_BASE.toSeconds() << Math.min(attempts - 1, 20);
        return s >= RETRY_MAX.toSeconds() ? RETRY_MAX : Duration.ofSeconds(s);
    }

    /**
     * {@code <vm>-drain-<id>} for the first attempt, {@code -<n>} appended for the next ones; the VM's part is cut so
     * the name stays a valid object name (253 characters).
     */
    public static String migrationName(String vm, String drainId, int attempt) {
        String suffix = "-drain-" + drainId + (attempt > 1 ? "-" + attempt : "");
        String head = vm.length() + suffix.length() > 253 ? vm.substring(0, 253 - suffix.length()) : vm;
        while (head.endsWith("-") || head.endsWith(".")) {
            head = head.substring(0, head.length() - 1);
        }
        return head + suffix;
    }

    static int attempt(String name) {
        int at = name.lastIndexOf("-drain-");
        String rest = at < 0 ? "" : name.substring(at + "-drain-".length());
        int dash = rest.indexOf('-');
        try {
            return dash < 0 ? 1 : Integer.parseInt(rest.substring(dash + 1));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private static List<String> notMovedRefs(HostDrainStatus st) {
        if (st == null || st.vms == null) {
            return List.of();
        }
        return st.vms.stream().filter(v -> HostDrainStatus.Vm.NOT_MOVED.equals(v.state))
                .map(v -> v.namespace + "/" + v.name).sorted().toList();
    }

    private static String summary(int total, int migrated, int migrating, int stopping, int stopped, int notMoved) {
        List<String> parts = new ArrayList<>();
        if (migrated > 0) {
            parts.add(migrated + " migrated");
        }
        if (migrating > 0) {
            parts.add(migrating + " migrating");
        }
        if (stopping > 0) {
            parts.add(stopping + " stopping");
        }
        if (stopped > 0) {
            parts.add(stopped + " stopped");
        }
        if (notMoved > 0) {
            parts.add(notMoved + " not moved");
        }
        return total == 0 ? "no VMs on the host" : total + " VM" + (total == 1 ? "" : "s") + ": "
                + String.join(", ", parts);
    }
}
