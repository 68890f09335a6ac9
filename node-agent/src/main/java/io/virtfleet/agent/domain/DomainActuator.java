package io.virtfleet.agent.domain;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.api.v1alpha1.Domain;
import org.libvirt.Error.ErrorNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The act step of a Domain pass for libvirt's lifecycle calls: a table from {@link LifecycleAction} to the libvirt
 * call, the Kubernetes Event reason and the message (logged, and the Event's). A step whose "operation invalid"
 * ({@code VIR_ERR_OPERATION_INVALID}, e.g. destroying a domain that just stopped, resuming one that runs) only means
 * it is moot is skipped; any other libvirt error is the caller's ({@link LibvirtCallException}).
 *
 * <p>Defining (the genid rule, the agent's metadata), the finalizer and the restart bookkeeping are not libvirt
 * lifecycle calls and stay with {@link DomainSyncer}.
 */
final class DomainActuator {
    private static final Logger LOG = LoggerFactory.getLogger(DomainActuator.class);

    /**
     * What a step needs and its message may say; {@code guestAgent}: the domain's guest agent channel is connected
     * (a shutdown then asks the agent first).
     */
    record Context(String ref, String uuid, String host, Duration shutdownTimeout, boolean shutdownWasRequested,
                   boolean guestAgent) {
        Context(String ref, String uuid, String host, Duration shutdownTimeout, boolean shutdownWasRequested) {
            this(ref, uuid, host, shutdownTimeout, shutdownWasRequested, false);
        }
    }

    @FunctionalInterface
    interface Call {
        void run(LibvirtConnection libvirt, Context c) throws LibvirtConnection.UnavailableException,
                LibvirtCallException;
    }

    /**
     * One row: the call; whether VIR_ERR_OPERATION_INVALID makes it moot; the Event reason (null: logged only); the
     * message.
     */
    record Step(Call call, boolean mootWhenInvalid, String eventReason, Function<Context, String> message) {
    }

    static final Map<LifecycleAction, Step> STEPS = new EnumMap<>(LifecycleAction.class);

    static {
        STEPS.put(LifecycleAction.START, new Step((l, c) -> l.start(c.uuid(), false), false, "Started",
                c -> "started libvirt domain " + c.uuid() + " on host " + c.host()));
        STEPS.put(LifecycleAction.START_PAUSED, new Step((l, c) -> l.start(c.uuid(), true), false, "Started",
                c -> "started libvirt domain " + c.uuid() + " on host " + c.host() + " (paused)"));
        STEPS.put(LifecycleAction.RESUME, new Step((l, c) -> l.resume(c.uuid()), true, "Resumed",
                c -> "resumed libvirt domain " + c.uuid()));
        STEPS.put(LifecycleAction.SUSPEND, new Step((l, c) -> l.suspend(c.uuid()), true, "Suspended",
                c -> "suspended libvirt domain " + c.uuid()));
        // Through the guest agent when its channel is connected (an orderly shutdown even of a guest that ignores
        // ACPI), the ACPI power button otherwise and as the agent's fallback (LibvirtConnection.shutdown).
        STEPS.put(LifecycleAction.SHUTDOWN, new Step((l, c) -> l.shutdown(c.uuid(), c.guestAgent()), true,
                "ShuttingDown", c -> "asked the guest to shut down " + (c.guestAgent() ? "through its guest agent"
                        : "(ACPI power button)") + "; it is destroyed after " + c.shutdownTimeout().toSeconds()
                        + " s"));
        STEPS.put(LifecycleAction.REPEAT_SHUTDOWN, new Step((l, c) -> l.shutdown(c.uuid(), c.guestAgent()), true,
                null, c -> "asked the guest to shut down again; still waiting for it"));
        STEPS.put(LifecycleAction.DESTROY, new Step((l, c) -> l.destroy(c.uuid()), true, "Destroyed",
                c -> "destroyed libvirt domain " + c.uuid() + (c.shutdownWasRequested() ? " (no shutdown within "
                        + c.shutdownTimeout().toSeconds() + " s)" : "")));
        STEPS.put(LifecycleAction.UNDEFINE, new Step((l, c) -> l.undefine(c.uuid(), DomainSyncer.UNDEFINE_FLAGS), false,
                "Undefined", c -> "undefined libvirt domain " + c.uuid() + " on host " + c.host()));
    }

    /** Where the Events of the steps go ({@link EventRecorder#record}; a list in tests). */
    @FunctionalInterface
    interface Events {
        void record(Domain d, String type, String reason, String message);
    }

    private final LibvirtConnection libvirt;
    private final Events events;

    DomainActuator(LibvirtConnection libvirt, Events events) {
        this.libvirt = libvirt;
        this.events = events;
    }

    static boolean handles(LifecycleAction a) {
        return STEPS.containsKey(a);
    }

    /** Carries out {@code action} for {@code d}; false when it was moot. */
    boolean run(LifecycleAction action, Domain d, Context c) throws LibvirtConnection.UnavailableException,
            LibvirtCallException {
        Step step = STEPS.get(action);
        if (step == null) {
            throw new IllegalArgumentException("not a libvirt lifecycle step: " + action);
        }
        if (!tolerant(c.ref(), action, step.mootWhenInvalid(), () -> step.call().run(libvirt, c))) {
            return false;
        }
        String message = step.message().apply(c);
        LOG.info("{}: {}", c.ref(), message);
        if (step.eventReason() != null) {
            events.record(d, EventRecorder.NORMAL, step.eventReason(), message);
        }
        return true;
    }

    @FunctionalInterface
    interface LibvirtStep {
        void run() throws LibvirtCallException, LibvirtConnection.UnavailableException;
    }

    /** Runs {@code step}; when {@code mootWhenInvalid}, "operation invalid" means there was nothing to do (false). */
    static boolean tolerant(String ref, LifecycleAction action, boolean mootWhenInvalid, LibvirtStep step)
            throws LibvirtCallException, LibvirtConnection.UnavailableException {
        try {
            step.run();
            return true;
        } catch (LibvirtCallException e) {
            if (mootWhenInvalid && e.is(ErrorNumber.VIR_ERR_OPERATION_INVALID)) {
                LOG.info("{}: {} not needed: {}", ref, action, e.getMessage());
                return false;
            }
            throw e;
        }
    }
}
