package io.virtfleet.agent.hotplug;

import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.reconcilers.hotplug.DeviceAction;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The pure parts of {@link Hotplugger}; the libvirt side is covered by e2e HotplugTest. */
class HotpluggerTest {
    @Test
    void aNicWithoutMacGetsTheMacLibvirtGaveThePersistentConfig() {
        DeviceAction.AttachInterface a = new DeviceAction.AttachInterface("ua-net1", "ua-net1", null,
                "<interface type=\"bridge\"><source bridge=\"br0\"/><alias name=\"ua-net1\"/></interface>");
        String persistent = "<domain><devices><interface type='bridge'><mac address='52:54:00:aa:bb:cc'/>"
                + "<source bridge='br0'/><alias name='ua-net1'/></interface></devices></domain>";
        assertThat(Hotplugger.withConfigMac(a, persistent))
                .startsWith("<interface type=\"bridge\"><mac address=\"52:54:00:aa:bb:cc\"/>");
        assertThat(Hotplugger.withConfigMac(a, "<domain><devices/></domain>")).isEqualTo(a.xml());
        DeviceAction.AttachInterface withMac = new DeviceAction.AttachInterface("ua-net1", "ua-net1",
                "52:54:00:00:00:01", a.xml());
        assertThat(Hotplugger.withConfigMac(withMac, persistent)).isEqualTo(a.xml());
    }

    @Test
    void statusWithoutPendingOrFailuresIsWhatLibvirtReports() {
        Hotplugger h = new Hotplugger(null, Clock.systemUTC());
        List<DeviceStatus> devices = List.of(new DeviceStatus("data", DeviceStatus.KIND_DISK, "vda", null,
                "/x.qcow2", DeviceStatus.STATE_ATTACHED));
        assertThat(h.decorate("u", devices)).isEqualTo(devices);
        assertThat(h.decorate("u", null)).isEmpty();
        assertThat(h.pending("u")).isEmpty();
    }
}
