package io.virtfleet.agent.hotplug;

import io.virtfleet.agent.MutableClock;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.DomainXmlCodec;
import io.virtfleet.reconcilers.hotplug.DeviceAction;
import org.libvirt.Error.ErrorNumber;
import org.junit.jupiter.api.Test;

import io.virtfleet.agent.libvirt.LibvirtNative;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The pure parts of {@link Hotplugger}; the libvirt side is covered by e2e HotplugTest. */
class HotpluggerTest {
    @Test
    void aNicWithoutMacGetsTheMacLibvirtGaveThePersistentConfig() {
        DeviceAction.AttachInterface a = new DeviceAction.AttachInterface("ua-net1", "ua-net1", null,
                "<interface type=\"bridge\"><source bridge=\"br0\"/><alias name=\"ua-net1\"/></interface>");
        DomainDef persistent = DomainXmlCodec.parse("<domain><devices><interface type='bridge'><mac address='52:54:00:aa:bb:cc'/>"
                + "<source bridge='br0'/><alias name='ua-net1'/></interface></devices></domain>");
        assertThat(Hotplugger.withConfigMac(a, persistent))
                .startsWith("<interface type=\"bridge\"><mac address=\"52:54:00:aa:bb:cc\"/>");
        assertThat(Hotplugger.withConfigMac(a, DomainXmlCodec.parse("<domain><devices/></domain>"))).isEqualTo(a.xml());
        DeviceAction.AttachInterface withMac = new DeviceAction.AttachInterface("ua-net1", "ua-net1",
                "52:54:00:00:00:01", a.xml());
        assertThat(Hotplugger.withConfigMac(withMac, persistent)).isEqualTo(a.xml());
    }

    static final String ROOT = "<disk type='file' device='disk'><source file='/i/root.qcow2'/>"
            + "<target dev='vda' bus='virtio'/><alias name='ua-root'/></disk>";
    static final String EXTRA = "<disk type='file' device='disk'><source file='/i/extra.qcow2'/>"
            + "<target dev='vdb' bus='virtio'/><alias name='ua-extra'/></disk>";

    static DomainDef dom(String... devices) {
        return DomainXmlCodec.parse("<domain type='qemu'><name>d</name><devices>" + String.join("", devices) + "</devices></domain>");
    }

    /** Records calls; attaches of {@code failing} sources fail like libvirt would. */
    static final class FakeCalls implements Hotplugger.DeviceCalls {
        final List<String> calls = new ArrayList<>();
        String failing;
        /** As libvirt's libxl driver: it keeps aliases but has no virDomainDetachDeviceAlias. */
        boolean noDetachByAlias;

        @Override
        public void attach(String uuid, String xml, int flags) throws LibvirtCallException {
            calls.add("attach " + flags);
            if (failing != null && xml.contains(failing)) {
                throw new LibvirtCallException("Cannot access storage file '" + failing + "'");
            }
        }

        @Override
        public void update(String uuid, String xml, int flags) {
            calls.add("update " + flags);
        }

        @Override
        public void detachAlias(String uuid, String alias, int flags) throws LibvirtCallException {
            calls.add("detach " + alias + " " + flags);
            if (noDetachByAlias) {
                throw new LibvirtCallException("this function is not supported by the connection driver: "
                        + "virDomainDetachDeviceAlias", ErrorNumber.VIR_ERR_NO_SUPPORT, null);
            }
        }

        @Override
        public void detach(String uuid, String xml, int flags) {
            calls.add("detach-xml " + flags);
        }
    }

    static DeviceStatus status(List<DeviceStatus> devices, String name) {
        return devices.stream().filter(d -> name.equals(d.name)).findFirst().orElse(null);
    }

    @Test
    void anUnacknowledgedDetachIsDetachingThenDetachTimeoutAndRequestedAgainWithoutBlockingOthers()
            throws Exception {
        FakeCalls calls = new FakeCalls();
        MutableClock clock = new MutableClock();
        Hotplugger h = new Hotplugger(calls, clock, Duration.ofSeconds(30));
        List<DeviceStatus> live = List.of(
                new DeviceStatus("root", DeviceStatus.KIND_DISK, "vda", null, "/i/root.qcow2", "Attached"),
                new DeviceStatus("extra", DeviceStatus.KIND_DISK, "vdb", null, "/i/extra.qcow2", "Attached"));

        // spec dropped "extra"; persistent config already redefined without it: LIVE only
        Hotplugger.Outcome o = h.sync("t", "u", dom(ROOT), dom(ROOT, EXTRA), dom(ROOT));
        assertThat(calls.calls).containsExactly("detach ua-extra " + org.libvirt.Domain.DeviceModifyFlags.LIVE);
        assertThat(o.requeueAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(status(h.decorate("u", live), "extra").state).isEqualTo(DeviceStatus.STATE_DETACHING);
        assertThat(status(h.decorate("u", live), "root").state).isEqualTo(DeviceStatus.STATE_ATTACHED);

        // 10 s later the guest still has it: no new request, still Detaching, look again in 20 s
        clock.now = clock.now.plusSeconds(10);
        o = h.sync("t", "u", dom(ROOT), dom(ROOT, EXTRA), dom(ROOT));
        assertThat(calls.calls).hasSize(1);
        assertThat(o.requeueAfter()).isEqualTo(Duration.ofSeconds(20));

        // meanwhile other devices are attached (the pending unplug blocks nothing else)
        String other = EXTRA.replace("extra", "other").replace("vdb", "vdc");
        h.sync("t", "u", dom(ROOT, other), dom(ROOT, EXTRA), dom(ROOT, other));
        assertThat(calls.calls).last().isEqualTo("attach " + org.libvirt.Domain.DeviceModifyFlags.LIVE);

        // after the timeout: DetachTimeout, requested again
        clock.now = clock.now.plusSeconds(21);
        h.sync("t", "u", dom(ROOT), dom(ROOT, EXTRA), dom(ROOT));
        assertThat(calls.calls).last().isEqualTo("detach ua-extra " + org.libvirt.Domain.DeviceModifyFlags.LIVE);
        DeviceStatus extra = status(h.decorate("u", live), "extra");
        assertThat(extra.state).isEqualTo(DeviceStatus.STATE_DETACH_TIMEOUT);
        assertThat(extra.message).contains("attempt 2");

        // DEVICE_REMOVED, and the next pass sees it gone from the live XML
        h.deviceRemoved("u", "ua-extra");
        o = h.sync("t", "u", dom(ROOT), dom(ROOT), dom(ROOT));
        assertThat(o.done()).containsExactly("detached disk ua-extra (guest acknowledged)");
        assertThat(h.pending("u")).isEmpty();
    }

    @Test
    void aDriverWithoutDetachByAliasGetsTheDevicesXml() throws Exception {
        FakeCalls calls = new FakeCalls();
        calls.noDetachByAlias = true;
        Hotplugger h = new Hotplugger(calls, new MutableClock(), Duration.ofSeconds(30));
        h.sync("t", "u", dom(ROOT), dom(ROOT, EXTRA), dom(ROOT));
        int live = org.libvirt.Domain.DeviceModifyFlags.LIVE;
        assertThat(calls.calls).containsExactly("detach ua-extra " + live, "detach-xml " + live);
        assertThat(h.pending("u")).hasSize(1);
    }

    @Test
    void aFailedAttachIsReportedAndTheOtherDevicesAreAttachedAnyway() throws Exception {
        FakeCalls calls = new FakeCalls();
        calls.failing = "/i/missing.qcow2";
        Hotplugger h = new Hotplugger(calls, new MutableClock(), Duration.ofSeconds(30));
        String missing = EXTRA.replace("extra", "missing");
        String nic = "<interface type='bridge'><source bridge='br0'/><model type='virtio'/>"
                + "<alias name='ua-net1'/></interface>";
        // persistent config lacks both (not redefined yet): LIVE | CONFIG
        Hotplugger.Outcome o = h.sync("t", "u", dom(ROOT, missing, nic), dom(ROOT), dom(ROOT));
        int both = org.libvirt.Domain.DeviceModifyFlags.LIVE | org.libvirt.Domain.DeviceModifyFlags.CONFIG;
        assertThat(calls.calls).containsExactly("attach " + both, "attach " + both);
        assertThat(o.error()).contains("ua-missing").contains("Cannot access storage file");
        List<DeviceStatus> shown = h.decorate("u", List.of(new DeviceStatus("root", DeviceStatus.KIND_DISK, "vda",
                null, "/i/root.qcow2", DeviceStatus.STATE_ATTACHED)));
        assertThat(status(shown, "root").state).isEqualTo(DeviceStatus.STATE_ATTACHED);
        assertThat(status(shown, "missing").state).isEqualTo(DeviceStatus.STATE_FAILED);
        assertThat(status(shown, "missing").target).isEqualTo("vdb");

        // the spec drops it: the failure is gone with the next pass
        h.sync("t", "u", dom(ROOT), dom(ROOT), dom(ROOT));
        assertThat(status(h.decorate("u", List.of()), "missing")).isNull();
    }

    @Test
    void beforeTheRedefineDevicesGoToLiveAndConfigAtOnceButAMaclessNicWaits() throws Exception {
        FakeCalls calls = new FakeCalls();
        Hotplugger h = new Hotplugger(calls, new MutableClock(), Duration.ofSeconds(30));
        int both = org.libvirt.Domain.DeviceModifyFlags.LIVE | org.libvirt.Domain.DeviceModifyFlags.CONFIG;
        // spec adds "extra" and drops nothing; libvirt's live and persistent XML are both the old spec
        Hotplugger.Outcome o = h.syncBeforeRedefine("t", "u", dom(ROOT, EXTRA), dom(ROOT), dom(ROOT));
        assertThat(o).isNotNull();
        assertThat(calls.calls).containsExactly("attach " + both);
        assertThat(o.changed()).isTrue();
        assertThat(o.done()).containsExactly("attached disk ua-extra (vdb)");

        // a dropped disk: one unplug request for both
        calls.calls.clear();
        h.syncBeforeRedefine("t", "u", dom(ROOT), dom(ROOT, EXTRA), dom(ROOT, EXTRA));
        assertThat(calls.calls).containsExactly("detach ua-extra " + both);

        // a NIC without a MAC in the spec needs the one libvirt generates at the define: nothing is done yet
        calls.calls.clear();
        String nic = "<interface type='bridge'><source bridge='br0'/><model type='virtio'/>"
                + "<alias name='ua-net1'/></interface>";
        assertThat(h.syncBeforeRedefine("t", "u", dom(ROOT, EXTRA, nic), dom(ROOT), dom(ROOT))).isNull();
        assertThat(calls.calls).isEmpty();
        String nicWithMac = nic.replace("<source", "<mac address='52:54:00:00:00:07'/><source");
        // (the unplug of "extra" is seen done in the live XML without a DEVICE_REMOVED event)
        Hotplugger.Outcome withMac = h.syncBeforeRedefine("t", "u", dom(ROOT, nicWithMac), dom(ROOT), dom(ROOT));
        assertThat(withMac).isNotNull();
        assertThat(withMac.done()).contains("detached disk ua-extra");
        assertThat(calls.calls).containsExactly("attach " + both);
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
