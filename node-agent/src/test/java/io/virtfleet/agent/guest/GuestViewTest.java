package io.virtfleet.agent.guest;

import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.GuestInterface;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The guest agent's replies and the view a Domain's status gets from them (pure, table-driven). */
class GuestViewTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final String OSINFO = "{\"return\":{\"name\":\"Debian GNU/Linux\",\"kernel-release\":\"6.1.0-28-cloud-amd64\","
            + "\"version\":\"12 (bookworm)\",\"pretty-name\":\"Debian GNU/Linux 12 (bookworm)\",\"version-id\":\"12\","
            + "\"kernel-version\":\"#1 SMP\",\"machine\":\"x86_64\",\"id\":\"debian\"}}";
    static final String HOSTNAME = "{\"return\":{\"host-name\":\"web-1\"}}";
    static final List<GuestReplies.RawInterface> RAW = List.of(
            new GuestReplies.RawInterface("lo", "00:00:00:00:00:00", List.of("127.0.0.1/8", "::1/128")),
            new GuestReplies.RawInterface("enp1s0", "52:54:00:AB:CD:EF", List.of("10.0.2.15/24", "fe80::1/64")),
            new GuestReplies.RawInterface("docker0", "02:42:11:22:33:44", List.of("172.17.0.1/16")));
    static final List<DeviceStatus> DEVICES = List.of(
            new DeviceStatus("default", DeviceStatus.KIND_INTERFACE, "vnet0", "52:54:00:ab:cd:ef", null, null));

    static DomainDocument withChannel(String state) throws DomainDocument.InvalidXmlException {
        return DomainDocument.parse("<domain type='qemu'><name>a</name><devices><channel type='unix'>"
                + "<target type='virtio' name='org.qemu.guest_agent.0'" + (state == null ? "" : " state='" + state + "'")
                + "/></channel></devices></domain>");
    }

    @ParameterizedTest
    @CsvSource({"connected, CONNECTED", "disconnected, DISCONNECTED", ", CONNECTED"})
    void channelStateFromTheLiveXml(String state, GuestReplies.Channel expected) throws Exception {
        assertThat(GuestReplies.channel(withChannel(state))).isEqualTo(expected);
    }

    @Test
    void noChannel() throws Exception {
        assertThat(GuestReplies.channel(DomainDocument.parse("<domain type='qemu'><name>a</name><devices>"
                + "<channel type='unix'><target type='virtio' name='io.virtfleet.portforward.0'/></channel>"
                + "</devices></domain>"))).isEqualTo(GuestReplies.Channel.NONE);
        assertThat(GuestReplies.channel(null)).isEqualTo(GuestReplies.Channel.NONE);
    }

    @Test
    void interfacesWithoutLoopbackNamedByMacSorted() {
        List<GuestInterface> l = GuestReplies.interfaces(RAW, DEVICES);
        assertThat(l).extracting(g -> g.interfaceName, g -> g.name, g -> g.mac).containsExactly(
                org.assertj.core.groups.Tuple.tuple("docker0", null, "02:42:11:22:33:44"),
                org.assertj.core.groups.Tuple.tuple("enp1s0", "default", "52:54:00:ab:cd:ef"));
        assertThat(l.get(1).ipAddresses).containsExactly("10.0.2.15/24", "fe80::1/64");
    }

    @Test
    void osInfoFromReplies() {
        var os = GuestReplies.osInfo(OSINFO, HOSTNAME);
        assertThat(os.id).isEqualTo("debian");
        assertThat(os.name).isEqualTo("Debian GNU/Linux");
        assertThat(os.versionId).isEqualTo("12");
        assertThat(os.kernelRelease).isEqualTo("6.1.0-28-cloud-amd64");
        assertThat(os.hostname).isEqualTo("web-1");
    }

    @Test
    void osInfoToleratesMissingAndHostileReplies() {
        var os = GuestReplies.osInfo(null, "{\"return\":{\"host-name\":\"evil\\u0007\\nname\"}}");
        assertThat(os.id).isNull();
        assertThat(os.hostname).isEqualTo("evilname");
        assertThat(GuestReplies.osInfo("not json", "{\"error\":{\"class\":\"CommandNotFound\"}}").hostname).isNull();
        assertThat(GuestReplies.osInfo("{\"return\":{\"id\":\"" + "x".repeat(1000) + "\"}}", null).id).hasSize(253);
    }

    @ParameterizedTest(name = "active={0} channel={1} reading={2} -> {3}/{4}")
    @CsvSource({
            "false, CONNECTED,    ok,     False,   NotRunning",
            "true,  NONE,         none,   False,   NoChannel",
            "true,  DISCONNECTED, ok,     False,   ChannelDisconnected",
            "true,  CONNECTED,    none,   Unknown, Querying",
            "true,  CONNECTED,    failed, False,   Unresponsive",
            "true,  CONNECTED,    ok,     True,    Connected",
    })
    void conditionTable(boolean active, GuestReplies.Channel channel, String reading, String status, String reason) {
        GuestView.Reading r = switch (reading) {
            case "ok" -> new GuestView.Reading(T0, RAW, OSINFO, HOSTNAME, null);
            case "failed" -> new GuestView.Reading(T0, List.of(), null, null, "Guest agent is not responding");
            default -> null;
        };
        GuestView v = GuestView.of(active, channel, r, DEVICES, T0.plusSeconds(5));
        assertThat(v.status()).isEqualTo(status);
        assertThat(v.reason()).isEqualTo(reason);
        boolean data = reason.equals(DomainStatus.GUEST_AGENT_CONNECTED);
        assertThat(v.interfaces() != null).isEqualTo(data);
        assertThat(v.osInfo() != null).isEqualTo(data);
        if (reason.equals("Unresponsive")) {
            assertThat(v.message()).contains("Guest agent is not responding");
        }
        if (reason.equals("Connected")) {
            assertThat(v.message()).contains("Debian GNU/Linux 12").contains("web-1");
        }
    }

    @Test
    void pollsAConnectedAgentAgainAfterTheInterval() {
        GuestView.Reading r = new GuestView.Reading(T0, RAW, OSINFO, HOSTNAME, null);
        assertThat(GuestView.due(r, T0.plusSeconds(5))).isFalse();
        assertThat(GuestView.due(r, T0.plus(GuestView.POLL_INTERVAL))).isTrue();
        assertThat(GuestView.due(null, T0)).isTrue();
        assertThat(GuestView.of(true, GuestReplies.Channel.CONNECTED, r, DEVICES, T0.plusSeconds(5)).pollAgain())
                .isEqualTo(GuestView.POLL_INTERVAL.minusSeconds(5));
        assertThat(GuestView.of(false, GuestReplies.Channel.CONNECTED, r, DEVICES, T0).pollAgain()).isNull();
    }

    @Test
    void sameReadingSameView() {
        GuestView.Reading a = new GuestView.Reading(T0, RAW, OSINFO, HOSTNAME, null);
        GuestView.Reading b = new GuestView.Reading(T0.plusSeconds(30), RAW, OSINFO, HOSTNAME, null);
        GuestView va = GuestView.of(true, GuestReplies.Channel.CONNECTED, a, DEVICES, T0);
        GuestView vb = GuestView.of(true, GuestReplies.Channel.CONNECTED, b, DEVICES, T0.plusSeconds(30));
        assertThat(vb.interfaces()).isEqualTo(va.interfaces());
        assertThat(vb.osInfo()).isEqualTo(va.osInfo());
        assertThat(vb.message()).isEqualTo(va.message());
    }
}
