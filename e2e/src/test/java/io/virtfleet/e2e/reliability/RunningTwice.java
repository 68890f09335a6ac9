package io.virtfleet.e2e.reliability;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The "no VM runs twice" invariant of the fault-injection driver, pure (the driver passes in what it read): two live
 * QEMU processes of ours with one {@code -uuid} or one {@code -name guest=} are a VM running twice — except a live
 * migration in flight. libvirt's live migration starts the destination QEMU with {@code -incoming} and the same
 * domain UUID while the source's still runs the guest; the destination stays paused until the switchover, when
 * libvirt pauses the source and resumes the destination (libvirt's "Migration" documentation: the domain is "running"
 * on exactly one side at any time). So during a migration the pair source + destination, each named for its own host,
 * is allowed as long as libvirt does not report both {@code running}; once the migration is over, one QEMU only.
 * A failover in flight is the other pair: the lost host's stale copy still runs (its agent and libvirtd are gone, so
 * libvirt cannot be asked: a live QEMU there counts as running) while the new host's start attempts launch a QEMU with
 * the same UUID that exits on the disk's image lock before its CPUs run (QEMU's {@code -S}: libvirt resumes them
 * only once the start succeeded) — allowed as long as the new host's domain is not {@code running}.
 */
final class RunningTwice {

    /**
     * A migration (or, {@code failover}, a failover) in flight: the VM's libvirt domain names on its source (for a
     * failover the lost host) and on its destination host.
     */
    record Migration(String vm, String name, String sourceHost, String targetHost, String onSource,
                     String onTarget, boolean failover) {
        Migration(String vm, String name, String sourceHost, String targetHost, String onSource, String onTarget) {
            this(vm, name, sourceHost, targetHost, onSource, onTarget, false);
        }
    }

    private RunningTwice() {
    }

    /**
     * The violations in one look at the processes.
     *
     * @param qemus      the live QEMU processes of the machine
     * @param ours       which of them belong to the run (its domain prefixes, or a uuid of its VMs)
     * @param inFlight   the migrations and failovers in flight by the VM's uuid (any case)
     * @param libvirt    libvirt's state of each domain, by libvirt name, as read with the processes
     * @param lookAgain  libvirt's states of both domains of a migration read once more, the hosts in the other
     *                   order: the switchover between two reads (source paused after the first host was read,
     *                   destination resumed before the second) makes one read order see both running
     */
    static List<String> violations(List<Processes.Qemu> qemus, Predicate<Processes.Qemu> ours,
                                   Map<String, Migration> inFlight, Map<String, String> libvirt,
                                   Function<Migration, Map<String, String>> lookAgain) {
        Map<String, List<Processes.Qemu>> byUuid = new LinkedHashMap<>();
        Map<String, List<Long>> byName = new LinkedHashMap<>();
        for (Processes.Qemu q : qemus) {
            if (ours.test(q)) {
                byUuid.computeIfAbsent(String.valueOf(q.uuid()).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(q);
                byName.computeIfAbsent(String.valueOf(q.name()), k -> new ArrayList<>()).add(q.pid());
            }
        }
        Map<String, Migration> migrations = inFlight.entrySet().stream().collect(Collectors.toMap(
                e -> e.getKey().toLowerCase(Locale.ROOT), Map.Entry::getValue));
        List<String> out = new ArrayList<>();
        byUuid.forEach((u, list) -> {
            if (list.size() < 2) {
                return;
            }
            List<Long> pids = list.stream().map(Processes.Qemu::pid).toList();
            Migration m = migrations.get(u);
            Set<String> names = list.stream().map(Processes.Qemu::name).collect(Collectors.toSet());
            if (m == null || list.size() != 2 || !names.equals(Set.of(m.onSource(), m.onTarget()))) {
                out.add("VM running twice: QEMU processes " + pids + " share -uuid " + u);
                return;
            }
            if (m.failover()) {
                // The stale copy's QEMU is alive (it is in the list): the guest must not run on the new host yet. The
                // processes were read after libvirt, so that copy was alive when the new host's state was read too.
                if ("running".equals(libvirt.get(m.onTarget()))) {
                    out.add(m.vm() + ": running on " + m.targetHost() + " while the stale copy on the lost host "
                            + m.sourceHost() + " still runs, during failover " + m.name() + " (QEMU " + pids + ")");
                }
            } else if (bothRunning(libvirt, m) && bothRunning(lookAgain.apply(m), m)) {
                out.add(m.vm() + ": running on both " + m.sourceHost() + " and " + m.targetHost()
                        + " during migration " + m.name() + " (QEMU " + pids + ")");
            }
        });
        byName.forEach((n, pids) -> {
            if (pids.size() > 1) {
                out.add("VM running twice: QEMU processes " + pids + " share the name " + n);
            }
        });
        return out;
    }

    private static boolean bothRunning(Map<String, String> libvirt, Migration m) {
        return "running".equals(libvirt.get(m.onSource())) && "running".equals(libvirt.get(m.onTarget()));
    }
}
