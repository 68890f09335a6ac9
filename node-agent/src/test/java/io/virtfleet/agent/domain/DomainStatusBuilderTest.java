package io.virtfleet.agent.domain;

import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.DomainState;
import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

class DomainStatusBuilderTest {
    static final String UUID = "7d3c1f5e-3b1a-4c55-9e0e-2a8f7c9b6d41";
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    static String xml(String hash, String id) {
        return "<domain type='qemu'" + (id == null ? "" : " id='" + id + "'") + "><name>vf-a</name><uuid>" + UUID
                + "</uuid><genid>3f0b2e8a-1f43-4c8e-9d8b-0b4a2f6e9c11</genid><metadata>"
                + "<m:vm xmlns:m='" + ApiGroup.LIBVIRT_METADATA_NS + "' host='node-a'/>"
                + "<a:applied xmlns:a='" + DomainDocument.AGENT_METADATA_NS + "' specHash='" + hash + "'/></metadata>"
                + "<devices><disk type='file'><source file='/var/lib/virtfleet/a.qcow2'/><target dev='vda'/>"
                + "<alias name='ua-root'/></disk></devices></domain>";
    }

    static Domain domain(String power) {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName("a").withGeneration(3L).build());
        DomainSpec s = new DomainSpec();
        s.powerState = power;
        s.uuid = UUID.toUpperCase();
        d.setSpec(s);
        return d;
    }

    static Condition cond(DomainStatus s, String type) {
        return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
    }

    @Test
    void runningDomain() {
        InspectedDomain info = new InspectedDomain(UUID, "vf-a", 7, DomainState.RUNNING.code(), 1, true, true,
                xml("h1", "7"), xml("h1", null));
        DomainStatus s = DomainStatusBuilder.build(domain("Running"), info, OptionalLong.of(4242),
                DomainStatusBuilder.Outcome.ok(null, 1, 0L), T0);
        assertThat(s.state).isEqualTo("Running");
        assertThat(s.reason).isEqualTo("Booted");
        assertThat(s.id).isEqualTo(7);
        assertThat(s.pid).isEqualTo(4242L);
        assertThat(s.uuid).isEqualTo(UUID);
        assertThat(s.genid).isEqualTo("3f0b2e8a-1f43-4c8e-9d8b-0b4a2f6e9c11");
        assertThat(s.devices).singleElement().satisfies(dev -> {
            assertThat(dev.name).isEqualTo("root");
            assertThat(dev.target).isEqualTo("vda");
        });
        assertThat(s.startCount).isEqualTo(1L);
        assertThat(s.observedRestartGeneration).isZero();
        assertThat(s.observedGeneration).isEqualTo(3L);
        assertThat(cond(s, "Ready").getStatus()).isEqualTo("True");
        assertThat(cond(s, "Synced").getStatus()).isEqualTo("True");
        assertThat(cond(s, "RestartRequired").getStatus()).isEqualTo("False");
    }

    @Test
    void crashedDomainIsInactiveWithIdMinusOneAndNoPid() {
        InspectedDomain info = new InspectedDomain(UUID, "vf-a", -1, DomainState.SHUTOFF.code(), 3, false, true,
                xml("h1", null), xml("h1", null));
        DomainStatus s = DomainStatusBuilder.build(domain("Running"), info, OptionalLong.of(1),
                DomainStatusBuilder.Outcome.ok("a start request", 0, null), T0);
        assertThat(s.state).isEqualTo("Shutoff");
        assertThat(s.reason).isEqualTo("Crashed");
        assertThat(s.id).isEqualTo(-1);
        assertThat(s.pid).isNull();
        assertThat(cond(s, "Ready").getStatus()).isEqualTo("False");
        assertThat(cond(s, "Ready").getMessage()).contains("waiting for a start request");
    }

    @Test
    void notDefinedWithError() {
        DomainStatus s = DomainStatusBuilder.build(domain("Running"), null, OptionalLong.empty(),
                DomainStatusBuilder.Outcome.failed("InvalidSpec", "bad path /etc/shadow", 0, null), T0);
        assertThat(s.state).isEqualTo("NotDefined");
        assertThat(s.id).isEqualTo(-1);
        assertThat(s.uuid).isEqualTo(UUID);
        assertThat(s.lastError).contains("/etc/shadow");
        assertThat(cond(s, "Synced").getReason()).isEqualTo("InvalidSpec");
    }

    @Test
    void restartRequiredWhenPersistentConfigDiffersFromLive() {
        InspectedDomain info = new InspectedDomain(UUID, "vf-a", 7, DomainState.RUNNING.code(), 1, true, true,
                xml("old", "7"), xml("new", null));
        DomainStatus s = DomainStatusBuilder.build(domain("Running"), info, OptionalLong.empty(),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0);
        assertThat(cond(s, "RestartRequired").getStatus()).isEqualTo("True");
    }

    /** A spec XML as the agent defines it (withAgentMetadata records the spec's fingerprint). */
    static String defined(String hash, String memory, String extraDevice) throws DomainDocument.InvalidXmlException {
        String spec = "<domain type='qemu'><name>vf-a</name><uuid>" + UUID + "</uuid><metadata>"
                + "<m:vm xmlns:m='" + ApiGroup.LIBVIRT_METADATA_NS + "' host='node-a'/></metadata>"
                + "<memory unit='MiB'>" + memory + "</memory><devices><disk type='file'>"
                + "<source file='/var/lib/virtfleet/a.qcow2'/><target dev='vda'/><alias name='ua-root'/></disk>"
                + extraDevice + "</devices></domain>";
        return DomainDocument.parse(spec).withAgentMetadata(hash, null);
    }

    @Test
    void devicesAddedOrRemovedLiveNeedNoRestartOtherChangesDo() throws Exception {
        String extra = "<disk type='file'><source file='/var/lib/virtfleet/b.qcow2'/><target dev='vdb'/>"
                + "<alias name='ua-extra'/></disk>";
        InspectedDomain hotplugged = new InspectedDomain(UUID, "vf-a", 7, DomainState.RUNNING.code(), 1, true, true,
                defined("old", "256", ""), defined("new", "256", extra));
        DomainStatus s = DomainStatusBuilder.build(domain("Running"), hotplugged, OptionalLong.empty(),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0);
        assertThat(cond(s, "RestartRequired").getStatus()).isEqualTo("False");

        InspectedDomain memory = new InspectedDomain(UUID, "vf-a", 7, DomainState.RUNNING.code(), 1, true, true,
                defined("old", "256", ""), defined("new", "512", extra));
        s = DomainStatusBuilder.build(domain("Running"), memory, OptionalLong.empty(),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0);
        assertThat(cond(s, "RestartRequired").getStatus()).isEqualTo("True");
    }

    @Test
    void conditionTransitionTimesAreKeptWhileUnchanged() {
        Domain d = domain("Stopped");
        DomainStatus first = DomainStatusBuilder.build(d, null, OptionalLong.empty(),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0);
        d.setStatus(first);
        DomainStatus second = DomainStatusBuilder.build(d, null, OptionalLong.empty(),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0.plusSeconds(60));
        assertThat(cond(second, "Ready").getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(DomainStatusBuilder.differs(first, second)).isFalse();
        assertThat(second.observedTime).isEqualTo("2026-01-01T00:01:00Z");
    }
    @Test
    void devicesWithoutAliasesAreNamedFromTheSpecByTargetOrMac() {
        // Live devices without ua- aliases (a Xen domain whose driver dropped them): names come from the spec's.
        var live = java.util.List.of(
                new io.virtfleet.api.v1alpha1.DeviceStatus(null, "disk", "xvda", null, "/i/a.qcow2", "Attached"),
                new io.virtfleet.api.v1alpha1.DeviceStatus(null, "interface", "vif7.1", "00:16:3e:00:00:02", "xenbr0",
                        "Attached"),
                new io.virtfleet.api.v1alpha1.DeviceStatus(null, "interface", "x-named", "00:16:3e:00:00:09",
                        "xenbr0", "Attached"),
                new io.virtfleet.api.v1alpha1.DeviceStatus(null, "disk", "xvdz", null, "/i/z.img", "Attached"));
        var desired = java.util.List.of(
                new io.virtfleet.api.v1alpha1.DeviceStatus("data", "disk", "xvda", null, "/i/a.qcow2", "Attached"),
                new io.virtfleet.api.v1alpha1.DeviceStatus("auto", "interface", null, "00:16:3E:00:00:02", "xenbr0",
                        "Attached"),
                new io.virtfleet.api.v1alpha1.DeviceStatus("named", "interface", "x-named", null, "xenbr0",
                        "Attached"));
        var named = DomainStatusBuilder.namedFromSpec(live, desired);
        assertThat(named).extracting(d -> d.name).containsExactly("data", "auto", "named", null);
        assertThat(named).extracting(d -> d.target).containsExactly("xvda", "vif7.1", "x-named", "xvdz");
    }

    @Test
    void guestAgentReportKeptByOtherWritersWhileRunningAndDroppedWhenStopped() {
        InspectedDomain running = new InspectedDomain(UUID, "vf-a", 7, DomainState.RUNNING.code(), 1, true, true,
                xml("h1", "7"), xml("h1", null));
        Domain d = domain("Running");
        DomainStatus first = DomainStatusBuilder.build(d, running, OptionalLong.of(1),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0);
        io.virtfleet.agent.guest.GuestView view = io.virtfleet.agent.guest.GuestView.of(true,
                io.virtfleet.agent.guest.GuestReplies.Channel.CONNECTED,
                new io.virtfleet.agent.guest.GuestView.Reading(T0, java.util.List.of(
                        new io.virtfleet.agent.guest.GuestReplies.RawInterface("enp1s0", "52:54:00:00:00:01",
                                java.util.List.of("10.0.2.15/24"))),
                        "{\"return\":{\"id\":\"debian\"}}", "{\"return\":{\"host-name\":\"h\"}}", null),
                first.devices, T0);
        DomainStatusBuilder.withGuest(d, first, view, T0);
        assertThat(cond(first, "GuestAgentConnected").getStatus()).isEqualTo("True");
        assertThat(first.interfaces).singleElement().satisfies(i -> assertThat(i.ipAddresses)
                .containsExactly("10.0.2.15/24"));
        assertThat(first.guestOSInfo.hostname).isEqualTo("h");
        d.setStatus(first);

        // another writer (an error path) keeps the report: no flapping status writes
        DomainStatus again = DomainStatusBuilder.build(d, running, OptionalLong.of(1),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0.plusSeconds(60));
        assertThat(DomainStatusBuilder.differs(first, again)).isFalse();

        // a changed address is a change
        DomainStatus moved = DomainStatusBuilder.build(d, running, OptionalLong.of(1),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0.plusSeconds(60));
        moved.interfaces = java.util.List.of(new io.virtfleet.api.v1alpha1.GuestInterface(null, "enp1s0",
                "52:54:00:00:00:01", java.util.List.of("10.0.2.16/24")));
        assertThat(DomainStatusBuilder.differs(first, moved)).isTrue();

        InspectedDomain stopped = new InspectedDomain(UUID, "vf-a", -1, DomainState.SHUTOFF.code(), 1, false, true,
                xml("h1", null), xml("h1", null));
        DomainStatus off = DomainStatusBuilder.build(d, stopped, OptionalLong.empty(),
                DomainStatusBuilder.Outcome.ok(null, 0, null), T0.plusSeconds(90));
        assertThat(off.interfaces).isNull();
        assertThat(off.guestOSInfo).isNull();
        assertThat(cond(off, "GuestAgentConnected").getReason()).isEqualTo("NotRunning");
    }
}
