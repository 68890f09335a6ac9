package io.virtfleet.reconcilers.genid;

import io.virtfleet.api.v1alpha1.GenidChange;
import io.virtfleet.reconcilers.render.Guids;
import io.virtfleet.reconcilers.validation.VirtualMachineValidator;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Which VM transitions need a new generation ID (libvirt's {@code <genid>}: a new value tells the guest it runs as a
 * copy or after a rollback). Pure.
 *
 * <p>A new genid is required before the guest runs again after it was reverted to a snapshot, restored from a backup,
 * cloned/imported/copied, or failed over (DR). It must not change on a plain restart, a guest reboot, pause/resume,
 * live migration (ABI stability: source and destination must match), or an agent or libvirtd restart.
 *
 * <p>{@code spec.genid}: {@code auto} (or absent) — virtfleet manages it; a GUID — the initial value only (spec is
 * never mutated; the current one is in status, and {@link Decision#message()} explains why they differ); {@code none}
 * — no genid device, ever: a copying transition keeps none and says so (a Warning Event).
 */
public final class GenidPolicy {
    public static final String REASON_CREATED = "Created";
    public static final String REASON_SNAPSHOT_RESTORED = "SnapshotRestored";
    public static final String REASON_BACKUP_RESTORED = "BackupRestored";
    public static final String REASON_CLONED = "Cloned";
    public static final String REASON_IMPORTED = "Imported";
    public static final String REASON_FAILOVER = "Failover";
    /** A genid libvirt reports that virtfleet did not ask for (e.g. a revert done by hand with virsh). */
    public static final String REASON_EXTERNAL = "ChangedOutsideVirtfleet";
    /**
     * Domain annotation naming the reason of the genid change the agent is asked to make (set with the request, e.g. by
     * the restore controller); the status folder records it in genidHistory when the new genid is reported.
     */
    public static final String CHANGE_REASON_ANNOTATION = "virtfleet.io/genid-change-reason";
    /**
     * VM annotations set by the operator on a VM it creates as a copy of another (clone) or from a backup: the VM's
     * first genid is then not "Created" but the reason of the copy ({@link #initialReason}).
     */
    public static final String CLONED_FROM_ANNOTATION = "virtfleet.io/cloned-from";
    public static final String RESTORED_FROM_BACKUP_ANNOTATION = "virtfleet.io/restored-from-backup";

    /** What happened to the VM. */
    public enum Transition {
        CREATED(null), PLAIN_RESTART(null), GUEST_REBOOT(null), PAUSE_RESUME(null), LIVE_MIGRATION(null),
        AGENT_RESTART(null), LIBVIRTD_RESTART(null), REDEFINE(null),
        SNAPSHOT_REVERT(REASON_SNAPSHOT_RESTORED), BACKUP_RESTORE(REASON_BACKUP_RESTORED), CLONE(REASON_CLONED),
        IMPORT(REASON_IMPORTED), COPY(REASON_CLONED), FAILOVER(REASON_FAILOVER);

        private final String reason;

        Transition(String reason) {
            this.reason = reason;
        }

        /** True when the guest is (possibly) executing something that already ran: it needs a new genid. */
        public boolean copiesExecution() {
            return reason != null;
        }

        /** The genidHistory reason of the change (null when this transition never changes the genid). */
        public String reason() {
            return reason;
        }
    }

    public enum Mode { AUTO, EXPLICIT, NONE }

    public enum Action {
        /** Keep the current genid exactly. */
        KEEP,
        /** Use {@link Decision#genid()}, a new value (or, at creation, the explicit one; with auto the operator generates it). */
        NEW,
        /** No genid device; for a copying transition the caller emits a Warning Event with the message. */
        NO_DEVICE
    }

    /**
     * @param genid   the genid to run with: the new one for NEW, the current one for KEEP, null for NO_DEVICE (and for
     *                CREATED with auto: the operator generates it with the VM's first Domain)
     * @param reason  the genidHistory / Event reason when the genid changes (null otherwise)
     * @param message for humans (Events, status)
     */
    public record Decision(Action action, String genid, String reason, String message) {
        public boolean changes() {
            return action == Action.NEW;
        }
    }

    private GenidPolicy() {
    }

    public static Mode mode(String specGenid) {
        if (specGenid == null || specGenid.isEmpty() || VirtualMachineValidator.GENID_AUTO.equals(specGenid)) {
            return Mode.AUTO;
        }
        return VirtualMachineValidator.GENID_NONE.equals(specGenid) ? Mode.NONE : Mode.EXPLICIT;
    }

    public static Decision decide(String specGenid, String current, Transition t) {
        return decide(specGenid, current, t, Guids::newGuid);
    }

    /** @param fresh makes a new random GUID (tests pass a fixed one) */
    public static Decision decide(String specGenid, String current, Transition t, Supplier<String> fresh) {
        Mode mode = mode(specGenid);
        if (mode == Mode.NONE) {
            return new Decision(Action.NO_DEVICE, null, null, t.copiesExecution()
                    ? "spec.genid is none: the guest gets no generation ID and is not told it was "
                    + describe(t) : "spec.genid is none: no generation ID device");
        }
        if (t == Transition.CREATED) {
            String g = mode == Mode.EXPLICIT ? Guids.normalize(specGenid) : null;
            return new Decision(Action.NEW, g, REASON_CREATED, mode == Mode.EXPLICIT
                    ? "initial generation ID from spec.genid" : "generation ID generated by virtfleet");
        }
        if (!t.copiesExecution()) {
            return new Decision(Action.KEEP, current, null, "a " + describe(t) + " keeps the generation ID");
        }
        String g = Guids.normalize(fresh.get());
        if (Objects.equals(g, current) || Guids.isNil(g)) {
            throw new IllegalStateException("the new generation ID must differ from the current one");
        }
        return new Decision(Action.NEW, g, t.reason(), "new generation ID: the VM was " + describe(t)
                + (mode == Mode.EXPLICIT ? " (spec.genid is only the initial value)" : ""));
    }

    /**
     * A generation ID and its place in the VM's sequence of them ({@code genidGeneration}): 0 for the first, one more
     * for every new one virtfleet asks for. The one rule that keeps an older generation ID from coming back: nothing
     * — a redefine from a stale Domain spec, a snapshot's stored definition, a stale status — may replace a stamp by
     * one of a lower generation.
     */
    public record Stamp(String genid, long generation) {
        /** null when there is no genid (none, or not known yet); an absent generation is 0. */
        public static Stamp of(String genid, Long generation) {
            if (genid == null || genid.isBlank() || !Guids.isGuid(genid)) {
                return null;
            }
            return new Stamp(Guids.normalize(genid), generation == null ? 0L : generation);
        }

        /** The stamp of the next new generation ID. */
        public Stamp next(String newGenid) {
            return new Stamp(Guids.normalize(newGenid), generation + 1);
        }
    }

    /**
     * The generation ID to pin in the Domain: of {@code pinned} (the Domain's spec) and {@code observed} (what the
     * agent reports libvirt has), the higher generation; at equal generation the observed one when the report is for
     * the current spec (libvirt generated it for {@code <genid/>}, or it was changed outside virtfleet), else the
     * pinned one. null when neither has one.
     */
    public static Stamp newest(Stamp pinned, Stamp observed, boolean observedIsCurrent) {
        if (observed == null) {
            return pinned;
        }
        if (pinned == null) {
            return observed;
        }
        if (observed.generation() != pinned.generation()) {
            return observed.generation() > pinned.generation() ? observed : pinned;
        }
        return observedIsCurrent ? observed : pinned;
    }

    /**
     * The VM's status genid after a report: the reported one, unless it is of a lower generation than the one the
     * status already has (a stale report after a restore, or libvirt's definition brought back by a revert).
     */
    public static Stamp fold(Stamp previous, Stamp reported) {
        if (reported == null) {
            return previous;
        }
        if (previous != null && reported.generation() < previous.generation()) {
            return previous;
        }
        return reported;
    }

    /**
     * Whether the agent may define a domain whose genid is of generation {@code desired} over libvirt's definition
     * stamped {@code stamped} (null: not stamped by virtfleet, or not defined): never a lower generation.
     */
    public static boolean mayDefine(long desired, Long stamped) {
        return stamped == null || desired >= stamped;
    }

    /** Why status.genid differs from an explicit spec.genid (null when it does not, or spec is auto/none). */
    public static String whyDiffers(String specGenid, String statusGenid, List<GenidChange> history) {
        if (mode(specGenid) != Mode.EXPLICIT || statusGenid == null
                || Guids.normalize(specGenid).equals(Guids.normalize(statusGenid))) {
            return null;
        }
        GenidChange last = history == null || history.isEmpty() ? null : history.get(history.size() - 1);
        return "spec.genid is the initial value (never rewritten); the current generation ID changed"
                + (last != null && last.reason != null ? " on " + last.reason + " at " + last.time : "");
    }

    /** {@code status.genidSource} when the first genid came from an explicit spec.genid / from libvirt. */
    public static final String SOURCE_SPEC = "Spec";
    public static final String SOURCE_GENERATED = "Generated";

    /**
     * Where the current genid comes from, for {@code status.genidSource}: {@value #SOURCE_SPEC} (the explicit initial
     * value), {@value #SOURCE_GENERATED} (virtfleet made it for spec.genid auto), else the reason of the last change
     * (SnapshotRestored, Failover, ...); null while there is no genid.
     */
    public static String source(String specGenid, String statusGenid, List<GenidChange> history) {
        if (statusGenid == null || history == null || history.isEmpty()) {
            return null;
        }
        GenidChange last = history.get(history.size() - 1);
        if (!REASON_CREATED.equals(last.reason)) {
            return last.reason;
        }
        return mode(specGenid) == Mode.EXPLICIT ? SOURCE_SPEC : SOURCE_GENERATED;
    }

    /**
     * The reasons of the genid changes {@code next} records beyond {@code previous} (for the metric; the first genid,
     * {@value #REASON_CREATED}, is not a change). History only grows, so the new entries are the tail.
     */
    public static List<String> newChanges(List<GenidChange> previous, List<GenidChange> next) {
        int from = previous == null ? 0 : previous.size();
        List<String> out = new java.util.ArrayList<>();
        for (int i = from; next != null && i < next.size(); i++) {
            if (!REASON_CREATED.equals(next.get(i).reason)) {
                out.add(next.get(i).reason);
            }
        }
        return out;
    }

    /**
     * The history after observing {@code observed}: appends Created for the first genid, {@code reason} (or
     * {@link #REASON_EXTERNAL}) for a later different one; unchanged otherwise. Never removes entries.
     */
    public static List<GenidChange> record(List<GenidChange> history, String observed, String reason, Instant now) {
        return record(history, observed, reason, REASON_CREATED, now);
    }

    /** As {@link #record(List, String, String, Instant)}, with the reason of the first entry (see {@link #initialReason}). */
    public static List<GenidChange> record(List<GenidChange> history, String observed, String reason,
                                           String initialReason, Instant now) {
        List<GenidChange> out = new java.util.ArrayList<>(history == null ? List.of() : history);
        if (observed == null || observed.isEmpty()) {
            return out;
        }
        String g = Guids.normalize(observed);
        GenidChange last = out.isEmpty() ? null : out.get(out.size() - 1);
        if (last != null && g.equals(last.genid)) {
            return out;
        }
        String r = last == null ? (initialReason != null ? initialReason : REASON_CREATED) : reason != null ? reason : REASON_EXTERNAL;
        out.add(new GenidChange(g, r, now.toString()));
        return out;
    }

    /**
     * The genidHistory reason of a VM's first genid, from the VM's annotations: {@link #REASON_CLONED} for a VM the
     * operator created as a clone, {@link #REASON_BACKUP_RESTORED} for one it recreated from a backup, else
     * {@link #REASON_CREATED}.
     */
    public static String initialReason(java.util.Map<String, String> vmAnnotations) {
        if (vmAnnotations != null && vmAnnotations.containsKey(CLONED_FROM_ANNOTATION)) {
            return REASON_CLONED;
        }
        if (vmAnnotations != null && vmAnnotations.containsKey(RESTORED_FROM_BACKUP_ANNOTATION)) {
            return REASON_BACKUP_RESTORED;
        }
        return REASON_CREATED;
    }

    private static String describe(Transition t) {
        return switch (t) {
            case CREATED -> "created";
            case PLAIN_RESTART -> "restart";
            case GUEST_REBOOT -> "guest reboot";
            case PAUSE_RESUME -> "pause/resume";
            case LIVE_MIGRATION -> "live migration";
            case AGENT_RESTART -> "agent restart";
            case LIBVIRTD_RESTART -> "libvirtd restart";
            case REDEFINE -> "redefinition";
            case SNAPSHOT_REVERT -> "reverted to a snapshot";
            case BACKUP_RESTORE -> "restored from a backup";
            case CLONE -> "cloned";
            case IMPORT -> "imported";
            case COPY -> "copied";
            case FAILOVER -> "failed over";
        };
    }
}
