package io.virtfleet.operator.drain;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostDrainStatus;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.reconcilers.drain.DrainPlanner;
import io.virtfleet.reconcilers.lifecycle.DomainStates;
import io.virtfleet.reconcilers.lifecycle.Note;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Host maintenance, the operator's side: observes a Host whose {@code spec.drain} is set (or whose drain status is
 * left over), the VMs whose Domains name it and the drain's VirtualMachineMigrations, asks {@link DrainPlanner} what
 * to do, does it (create or delete migrations — the migration controller moves the VMs; VMs with evictionStrategy
 * Stop are stopped by their own controller, which sees the host draining) and records {@code Host.status.drain}.
 *
 * <p>Every read is a fresh one from the apiserver (not an informer cache), so a pass never acts on a view older than
 * the migrations it made; migrations are named deterministically per drain and attempt, so a pass repeated after a
 * crash finds them (AlreadyExists) instead of making a second one. Only {@code status.drain} is written, with a JSON
 * merge patch: the agent's status fields are never touched (and its own merge patches never include this one).
 */
@ControllerConfiguration(name = "hostdrain")
public class DrainController implements Reconciler<Host> {
    private static final Logger LOG = LoggerFactory.getLogger(DrainController.class);

    private final OperatorEventRecorder events;
    private final Clock clock;
    private final Set<String> namespaces;

    DrainController(OperatorEventRecorder events, Clock clock, Set<String> namespaces) {
        this.events = events;
        this.clock = clock;
        this.namespaces = namespaces;
    }

    /** Registers the controller (leader-elected with the rest). Hosts are cluster-scoped: all of them are watched. */
    public static void register(Operator op, OperatorConfig config, OperatorEventRecorder events) {
        op.register(new DrainController(events, config.clock(), config.namespaces()));
    }

    @Override
    public UpdateControl<Host> reconcile(Host host, Context<Host> context) {
        KubernetesClient client = context.getClient();
        String name = host.getMetadata().getName();
        boolean drain = host.getSpec() != null && Boolean.TRUE.equals(host.getSpec().drain);
        HostDrainStatus previous = host.getStatus() != null ? host.getStatus().drain : null;
        if (!drain && previous == null && migrations(client, name).stream().allMatch(m -> m.finished()
                || m.deleting())) {
            return UpdateControl.noUpdate();
        }
        Host fresh = client.resources(Host.class).withName(name).get();
        if (fresh == null) {
            return UpdateControl.noUpdate();
        }
        drain = fresh.getSpec() != null && Boolean.TRUE.equals(fresh.getSpec().drain);
        previous = fresh.getStatus() != null ? fresh.getStatus().drain : null;
        Instant now = clock.instant();
        DrainPlanner.Plan plan = DrainPlanner.plan(new DrainPlanner.Input(name, drain, previous,
                drain ? vmsOn(client, name) : List.of(), migrations(client, name), now));

        if (plan.record() || !sameJson(client, previous, plan.status())) {
            try {
                writeStatus(client, name, plan.status());
            } catch (KubernetesClientException e) {
                LOG.warn("Host {}: cannot write status.drain: {}", name, e.getMessage());
                return UpdateControl.<Host>noUpdate().rescheduleAfter(Duration.ofSeconds(5));
            }
        }
        for (DrainPlanner.Migration m : plan.delete()) {
            try {
                client.resources(VirtualMachineMigration.class).inNamespace(m.namespace()).withName(m.name()).delete();
                LOG.info("Host {}: deleted VirtualMachineMigration {}/{} ({})", name, m.namespace(), m.name(),
                        m.finished() ? "superseded by a new attempt" : "undrain: cancelling it");
            } catch (KubernetesClientException e) {
                LOG.warn("Host {}: cannot delete VirtualMachineMigration {}/{}: {}", name, m.namespace(), m.name(),
                        e.getMessage());
            }
        }
        for (DrainPlanner.Create c : plan.create()) {
            create(client, name, c);
        }
        for (Note n : plan.notes()) {
            events.record(fresh, n);
        }
        Duration again = plan.retryAfter();
        if (again == null) {
            return UpdateControl.noUpdate();
        }
        return UpdateControl.<Host>noUpdate().rescheduleAfter(again.isZero() ? Duration.ofMillis(50) : again);
    }

    private void create(KubernetesClient client, String host, DrainPlanner.Create c) {
        VirtualMachineMigration m = new VirtualMachineMigration();
        m.setMetadata(new ObjectMetaBuilder().withName(c.name()).withNamespace(c.namespace())
                .withLabels(Map.of(ApiGroup.DRAIN_HOST_LABEL, host, ApiGroup.DRAIN_ID_LABEL, c.drainId(),
                        ApiGroup.VM_LABEL, c.vmName()))
                .build());
        m.setSpec(new VirtualMachineMigrationSpec());
        m.getSpec().vmName = c.vmName();
        try {
            client.resource(m).create();
            LOG.info("Host {}: drain migrates VirtualMachine {}/{} (VirtualMachineMigration {})", host, c.namespace(),
                    c.vmName(), c.name());
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) { // 409: a pass before this one (or before a restart) made it
                LOG.warn("Host {}: cannot create VirtualMachineMigration {}/{}: {}", host, c.namespace(), c.name(),
                        e.getMessage());
            }
        }
    }

    private static void writeStatus(KubernetesClient client, String host, HostDrainStatus status) {
        Map<String, Object> drain = Collections.singletonMap("drain", status);
        String json = client.getKubernetesSerialization().asJson(Map.of("status", drain));
        client.resources(Host.class).withName(host).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), json);
    }

    /** The VMs whose Domain names this host, with what the drain needs to know of each. */
    private List<DrainPlanner.Vm> vmsOn(KubernetesClient client, String host) {
        List<Domain> domains = new ArrayList<>();
        Map<String, VirtualMachine> vms = new HashMap<>();
        for (String ns : namespaces.isEmpty() ? Collections.<String>singleton(null) : namespaces) {
            var d = ns == null ? client.resources(Domain.class).inAnyNamespace() : client.resources(Domain.class)
                    .inNamespace(ns);
            domains.addAll(d.withLabel(ApiGroup.HOST_LABEL, host).list().getItems());
            var v = ns == null ? client.resources(VirtualMachine.class).inAnyNamespace()
                    : client.resources(VirtualMachine.class).inNamespace(ns);
            for (VirtualMachine vm : v.list().getItems()) {
                vms.put(vm.getMetadata().getNamespace() + "/" + vm.getMetadata().getName(), vm);
            }
        }
        List<DrainPlanner.Vm> out = new ArrayList<>();
        for (Domain d : domains) {
            if (d.getSpec() == null || !host.equals(d.getSpec().host) || d.isMarkedForDeletion()) {
                continue;
            }
            VirtualMachine vm = vms.get(d.getMetadata().getNamespace() + "/" + d.getMetadata().getName());
            if (vm == null) {
                continue;
            }
            String state = d.getStatus() != null ? d.getStatus().state : null;
            boolean running = DomainStates.isActive(state) || (!DomainSpec.POWER_STOPPED.equals(
                    DomainStates.powerState(d.getSpec())) && DomainStates.startPending(d.getSpec(), d.getStatus()));
            out.add(new DrainPlanner.Vm(d.getMetadata().getNamespace(), d.getMetadata().getName(),
                    vm.getSpec() != null ? vm.getSpec().evictionStrategy : null, running,
                    d.getSpec().migration != null ? d.getSpec().migration.name : null));
        }
        return out;
    }

    /** The VirtualMachineMigrations a drain of this host made (any drain id). */
    private List<DrainPlanner.Migration> migrations(KubernetesClient client, String host) {
        List<DrainPlanner.Migration> out = new ArrayList<>();
        for (String ns : namespaces.isEmpty() ? Collections.<String>singleton(null) : namespaces) {
            var r = ns == null ? client.resources(VirtualMachineMigration.class).inAnyNamespace()
                    : client.resources(VirtualMachineMigration.class).inNamespace(ns);
            for (VirtualMachineMigration m : r.withLabel(ApiGroup.DRAIN_HOST_LABEL, host).list().getItems()) {
                VirtualMachineMigrationStatus st = m.getStatus();
                Map<String, String> labels = m.getMetadata().getLabels();
                out.add(new DrainPlanner.Migration(m.getMetadata().getNamespace(), m.getMetadata().getName(),
                        m.getSpec() != null ? m.getSpec().vmName : null,
                        labels != null ? labels.get(ApiGroup.DRAIN_ID_LABEL) : null, st != null ? st.phase : null,
                        st != null ? st.targetHost : null, st != null ? st.error : null,
                        instant(st != null ? st.endTime : null), m.isMarkedForDeletion()));
            }
        }
        return out;
    }

    private static Instant instant(String s) {
        try {
            return s == null ? null : Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static boolean sameJson(KubernetesClient client, Object a, Object b) {
        var json = client.getKubernetesSerialization();
        return Objects.equals(a == null ? null : json.asJson(a), b == null ? null : json.asJson(b));
    }
}
