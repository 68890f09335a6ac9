package io.virtfleet.agent.domain;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.agent.TestEnv;
import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainState;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The act step ({@link DomainActuator}) and the plans of {@link DomainSyncPlanner} carried out against libvirt's test
 * driver ({@code test:///default}: libvirt's own mock hypervisor, in this process, the way libvirt-java's tests use
 * it): real libvirt calls, states and errors, no libvirtd, no QEMU, no root. What needs QEMU itself (a guest that
 * shuts down, pids, hot-plug, genid devices) stays in the real-libvirtd tests ({@code DomainLifecycleTest}).
 */
class DomainActuatorTest {
    private static final String HOST = "seam-host";
    @RegisterExtension
    static final TestEnv.LibvirtFixture LIBVIRT = TestEnv.LibvirtFixture.connected("test:///default");
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final DomainActuator actuator = new DomainActuator(LIBVIRT.connection(), (d, type, reason, message) ->
            events.add(reason));

    @BeforeAll
    static void connected() {
        assertThat(LIBVIRT.connection().isConnected())
                .as("connected to test:///default: %s", LIBVIRT.connection().lastError()).isTrue();
    }

    private static String xml(String uuid) {
        return "<domain type='test'><name>vfat-seam-" + uuid.substring(0, 8) + "</name><uuid>" + uuid
                + "</uuid><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>";
    }

    private static Domain domain() {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName("seam").build());
        return d;
    }

    private static DomainActuator.Context context(String uuid) {
        return new DomainActuator.Context("default/seam", uuid, HOST, Duration.ofSeconds(60), false);
    }

    private static String state(String uuid) throws Exception {
        Optional<InspectedDomain> i = LIBVIRT.connection().inspect(uuid);
        return i.map(x -> DomainState.of(x.state()).statusName()).orElse(DomainState.NOT_DEFINED);
    }

    @Test
    void everyLifecycleStepOfTheTableDoesWhatItSaysAndPostsItsEvent() throws Exception {
        String uuid = UUID.randomUUID().toString();
        LIBVIRT.connection().define(xml(uuid));
        Domain d = domain();
        assertThat(state(uuid)).isEqualTo("Shutoff");

        assertThat(actuator.run(LifecycleAction.START, d, context(uuid))).isTrue();
        assertThat(state(uuid)).isEqualTo("Running");
        assertThat(actuator.run(LifecycleAction.SUSPEND, d, context(uuid))).isTrue();
        assertThat(state(uuid)).isEqualTo("Paused");
        assertThat(actuator.run(LifecycleAction.RESUME, d, context(uuid))).isTrue();
        assertThat(state(uuid)).isEqualTo("Running");
        assertThat(actuator.run(LifecycleAction.SHUTDOWN, d, context(uuid))).isTrue();
        assertThat(state(uuid)).as("the test driver's guest powers off at once").isEqualTo("Shutoff");
        assertThat(LIBVIRT.connection().inspect(uuid).orElseThrow().reason())
                .isEqualTo(1); // VIR_DOMAIN_SHUTOFF_SHUTDOWN
        assertThat(actuator.run(LifecycleAction.START, d, context(uuid))).isTrue();
        assertThat(actuator.run(LifecycleAction.DESTROY, d, context(uuid))).isTrue();
        assertThat(state(uuid)).isEqualTo("Shutoff");
        // The agent undefines with NVRAM and snapshot/checkpoint metadata (QEMU's driver knows those flags); the test
        // driver, like libxl, refuses flags it does not support (VIR_ERR_INVALID_ARG "unsupported flags"), and the
        // agent then undefines with MANAGED_SAVE alone: such a driver keeps none of that metadata.
        assertThat(actuator.run(LifecycleAction.UNDEFINE, d, context(uuid))).isTrue();
        assertThat(state(uuid)).isEqualTo(DomainState.NOT_DEFINED);

        assertThat(events).containsExactly("Started", "Suspended", "Resumed", "ShuttingDown", "Started",
                "Destroyed", "Undefined");
    }

    @Test
    void aStepLibvirtCallsInvalidForTheStateIsMootAndOtherErrorsAreOneExceptionType() throws Exception {
        String uuid = UUID.randomUUID().toString();
        LIBVIRT.connection().define(xml(uuid));
        Domain d = domain();
        // libvirt: "Requested operation is not valid: domain is not running" (VIR_ERR_OPERATION_INVALID)
        assertThat(actuator.run(LifecycleAction.DESTROY, d, context(uuid))).isFalse();
        assertThat(events).isEmpty();
        actuator.run(LifecycleAction.START, d, context(uuid));
        // Resuming a running domain: QEMU's driver says "operation invalid" (moot); the test driver says
        // VIR_ERR_INTERNAL_ERROR "not paused", which is reported like any libvirt error.
        assertThatThrownBy(() -> actuator.run(LifecycleAction.RESUME, d, context(uuid)))
                .isInstanceOfSatisfying(LibvirtCallException.class,
                        e -> assertThat(e.getMessage()).contains("not paused"));
        // START is not in the moot list: starting a running domain is an error the pass reports
        assertThatThrownBy(() -> actuator.run(LifecycleAction.START, d, context(uuid)))
                .isInstanceOf(LibvirtCallException.class);
        actuator.run(LifecycleAction.DESTROY, d, context(uuid));
        LIBVIRT.connection().undefine(uuid, 0);
        String gone = UUID.randomUUID().toString();
        assertThatThrownBy(() -> actuator.run(LifecycleAction.SUSPEND, d, context(gone)))
                .isInstanceOfSatisfying(LibvirtCallException.class, e -> assertThat(e.isNoDomain()).isTrue());
        assertThat(LIBVIRT.connection().inspect(gone)).isEmpty();
    }

    /**
     * The planner and the actuator together, pass after pass (observe -> plan -> act, as DomainSyncer does; the
     * finalizer and the restart bookkeeping are fields here), until the plan is empty: libvirt then is in the state
     * the powerState asks for.
     */
    @ParameterizedTest(name = "{0} domain, powerState {1}, start request {2}")
    @CsvSource({
        "absent,  Running, true,  Running",
        "absent,  Stopped, false, Shutoff",
        "absent,  Running, false, Shutoff",
        "Shutoff, Running, true,  Running",
        "Running, Stopped, false, Shutoff",
        "Running, Paused,  false, Paused",
        "Paused,  Running, false, Running",
        "Running, Running, true,  Running",
        "Running, Running, false, Running",
    })
    void plansCarriedOutOnTheTestDriverConverge(String initial, String powerState, boolean startRequested,
                                                String expected) throws Exception {
        String uuid = UUID.randomUUID().toString();
        String hash = "h-" + uuid.substring(0, 8);
        String stamped = DomainDocument.parse(xml(uuid)).withAgentMetadata(hash, null, 0L);
        if (!initial.equals("absent")) {
            LIBVIRT.connection().define(stamped);
            if (!initial.equals("Shutoff")) {
                LIBVIRT.connection().start(uuid, false);
            }
            if (initial.equals("Paused")) {
                LIBVIRT.connection().suspend(uuid);
            }
        }
        boolean hasFinalizer = !initial.equals("absent");
        long restartGeneration = 1;
        // A running domain with nothing recorded would be adopted; "no start request" means the generation is served.
        Long observedRestart = !startRequested ? Long.valueOf(restartGeneration)
                : initial.equals("Running") ? Long.valueOf(0) : null;
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        Instant shutdownAt = null;
        List<List<LifecycleAction>> passes = new ArrayList<>();
        Domain d = domain();
        for (int pass = 0; pass < 10; pass++) {
            Optional<InspectedDomain> lv = LIBVIRT.connection().inspect(uuid);
            if (lv.isPresent() && !lv.get().active()) {
                shutdownAt = null;
            }
            Instant requested = shutdownAt;
            ObservedDomain observed = lv.map(i -> new ObservedDomain(true, DomainState.of(i.state()),
                    parse(i.inactiveXml()).appliedSpecHash().orElse(null), requested))
                    .orElse(ObservedDomain.notDefined());
            DomainSyncPlanner.Desired desired = new DomainSyncPlanner.Desired(powerState, hash, true, false,
                    hasFinalizer, restartGeneration, observedRestart, Duration.ofSeconds(60));
            DomainSyncPlanner.Plan plan = DomainSyncPlanner.plan(desired, observed, now);
            if (plan.actions().isEmpty()) {
                break;
            }
            passes.add(plan.actions());
            for (LifecycleAction a : plan.actions()) {
                switch (a) {
                    case ADD_FINALIZER -> hasFinalizer = true;
                    case DEFINE -> LIBVIRT.connection().define(stamped);
                    case RECORD_RESTART -> observedRestart = restartGeneration;
                    case SHUTDOWN -> {
                        actuator.run(a, d, context(uuid));
                        shutdownAt = now;
                    }
                    default -> actuator.run(a, d, context(uuid));
                }
            }
            now = now.plusSeconds(1);
        }
        assertThat(DomainSyncPlanner.plan(new DomainSyncPlanner.Desired(powerState, hash, true, false, hasFinalizer,
                restartGeneration, observedRestart, Duration.ofSeconds(60)), observedNow(uuid, hash), now).actions())
                .as("converged after %s", passes).isEmpty();
        assertThat(state(uuid)).as("after %s", passes).isEqualTo(expected);
        LIBVIRT.connection().inspect(uuid).ifPresent(i -> {
            try {
                if (i.active()) {
                    LIBVIRT.connection().destroy(uuid);
                }
                LIBVIRT.connection().undefine(uuid, 0);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static ObservedDomain observedNow(String uuid, String hash) throws Exception {
        return LIBVIRT.connection().inspect(uuid)
                .map(i -> new ObservedDomain(true, DomainState.of(i.state()), hash, null))
                .orElse(ObservedDomain.notDefined());
    }

    private static DomainDocument parse(String xml) {
        try {
            return DomainDocument.parse(xml);
        } catch (DomainDocument.InvalidXmlException e) {
            throw new IllegalStateException(e);
        }
    }
}
