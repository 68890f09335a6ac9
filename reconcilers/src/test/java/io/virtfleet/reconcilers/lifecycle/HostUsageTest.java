package io.virtfleet.reconcilers.lifecycle;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HostUsageTest {
    private static final long GIB = 1L << 30;

    @Test
    void sumsPerHostAndFollowsMovesResizesAndRemovals() {
        HostUsage<String> u = new HostUsage<>();
        u.put("vm-1", "a", new VmResources(2, 4 * GIB));
        u.put("vm-2", "a", new VmResources(1, GIB));
        u.put("vm-3", "b", new VmResources(4, 8 * GIB));
        u.put("vm-4", null, new VmResources(8, 16 * GIB)); // not placed: counts nowhere
        assertThat(u.usedOn("a", null)).isEqualTo(new VmResources(3, 5 * GIB));
        assertThat(u.usedOn("b", null)).isEqualTo(new VmResources(4, 8 * GIB));
        assertThat(u.usedOn("c", null)).isEqualTo(VmResources.ZERO);

        u.put("vm-1", "a", new VmResources(2, 4 * GIB)); // the same again: no change
        assertThat(u.usedOn("a", null)).isEqualTo(new VmResources(3, 5 * GIB));
        u.put("vm-2", "a", new VmResources(2, 2 * GIB)); // resized
        assertThat(u.usedOn("a", null)).isEqualTo(new VmResources(4, 6 * GIB));
        u.put("vm-1", "b", new VmResources(2, 4 * GIB)); // moved (failover)
        assertThat(u.usedOn("a", null)).isEqualTo(new VmResources(2, 2 * GIB));
        assertThat(u.usedOn("b", null)).isEqualTo(new VmResources(6, 12 * GIB));
        u.remove("vm-3");
        u.remove("vm-9"); // unknown: nothing
        assertThat(u.usedOn("b", null)).isEqualTo(new VmResources(2, 4 * GIB));
        u.put("vm-2", null, new VmResources(2, 2 * GIB)); // lost its host
        assertThat(u.usedOn("a", null)).isEqualTo(VmResources.ZERO);
        assertThat(u.size()).isEqualTo(1);
        assertThat(u.hostOf("vm-1")).isEqualTo("b");
        assertThat(u.hostOf("vm-2")).isNull();
    }

    @Test
    void theVmBeingScheduledIsNotCountedAgainstItself() {
        HostUsage<String> u = new HostUsage<>();
        u.put("vm-1", "a", new VmResources(2, 4 * GIB));
        u.put("vm-2", "a", new VmResources(1, GIB));
        assertThat(u.usedOn("a", "vm-1")).isEqualTo(new VmResources(1, GIB));
        assertThat(u.usedOn("b", "vm-1")).isEqualTo(VmResources.ZERO);
        assertThat(u.usedOn("a", "vm-7")).isEqualTo(new VmResources(3, 5 * GIB));
    }
}
