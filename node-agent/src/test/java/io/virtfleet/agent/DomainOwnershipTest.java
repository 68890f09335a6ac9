package io.virtfleet.agent;

import io.fabric8.kubernetes.api.model.Condition;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainState;
import io.virtfleet.api.v1alpha1.DomainStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static io.virtfleet.agent.DomainObjects.condition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the agent refuses to touch, against the real kube-apiserver and libvirt's test driver
 * ({@code test:///default}: libvirt's mock hypervisor inside this process, the way libvirt-java's own tests use it). A
 * connection to {@code test:///default} shares the one in-memory driver of the process, so the domains this class
 * defines through its own connection are the ones the agent sees. No guest has to boot: the decisions under test
 * (ownership mark, allowed roots) are made before anything would run, and libvirt's state and XML show that nothing
 * was changed. What needs QEMU stays in {@link DomainLifecycleTest}.
 */
class DomainOwnershipTest {
    private static final Logger LOG = LoggerFactory.getLogger(DomainOwnershipTest.class);
    private static final String URI = "test:///default";
    /** Short: the refusals must hold through several periodic resyncs, not only the first pass. */
    static final Duration RESYNC = Duration.ofSeconds(3);

    /** Opened before the agent starts and closed after it stops, as JUnit orders extensions by {@code @Order}. */
    @RegisterExtension
    @Order(1)
    static final TestEnv.DirectLibvirt DIRECT = new TestEnv.DirectLibvirt(URI);
    @RegisterExtension
    @Order(2)
    static final TestHost ENV = TestHost.withAgent("owner", c -> c.withLibvirtUri(URI)
            .withDomainPrefix(TestEnv.DOMAIN_PREFIX).withResync(RESYNC).withLeaseDuration(Duration.ofSeconds(6))
            .withProbeUris(List.of()));

    @AfterEach
    void cleanUp() {
        ENV.objects().deleteAll();
    }

    /** A test-driver domain (no emulator runs) with a disk under {@code disk}, marked for {@code host} or not. */
    static String xml(String name, String uuid, String disk, boolean marked) {
        return xml(name, uuid, disk, marked ? ENV.host() : null);
    }

    /** A test-driver domain marked for {@code markedFor} (null: unmarked). */
    static String xml(String name, String uuid, String disk, String markedFor) {
        return "<domain type='test'><name>" + name + "</name><uuid>" + uuid + "</uuid>"
                + (markedFor != null ? "<metadata>" + TestEnv.mark(markedFor, ENV.ns(), name) + "</metadata>" : "")
                + "<memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>"
                + "<disk type='file' device='disk'><source file='" + disk + "'/><target dev='vda'/></disk>"
                + "</devices></domain>";
    }

    static Domain domainObject(String name, String uuid, String xml, String power) {
        TestEnv.Guest g = new TestEnv.Guest(name, uuid, xml, null);
        return TestEnv.domainObject(ENV.ns(), name, ENV.host(), g, power);
    }

    /** libvirt's state name as the status reports it; NotDefined when libvirt has no such domain. */
    static String state(String uuid) throws LibvirtException {
        try {
            org.libvirt.DomainInfo info = DIRECT.connect().domainLookupByUUIDString(uuid).getInfo();
            return DomainState.of(info.state.ordinal()).statusName();
        } catch (LibvirtException e) {
            if (e.getError().getCode() == org.libvirt.Error.ErrorNumber.VIR_ERR_NO_DOMAIN) {
                return DomainState.NOT_DEFINED;
            }
            throw e;
        }
    }

    @Test
    void domainsWithoutTheMarkAreNeitherTouchedNorReported() throws Exception {
        String name = TestEnv.newDomainName();
        String uuid = UUID.randomUUID().toString();
        String disk = TestEnv.IMAGES.resolve(name + "-data.qcow2").toString();
        String unmarked = xml(name, uuid, disk, false);
        assertThat(unmarked).doesNotContain(ApiGroup.LIBVIRT_METADATA_NS);
        org.libvirt.Domain dom = DIRECT.define(uuid, unmarked);
        dom.create();
        int id = dom.getID();
        String xmlBefore = dom.getXMLDesc(org.libvirt.Domain.XMLFlags.INACTIVE);

        // a Domain claiming its UUID is refused; the libvirt domain stays as it is
        ENV.objects().create(domainObject("claim", uuid, xml(name, uuid, disk, true), "Stopped"));
        DomainStatus s = ENV.objects().awaitStatus("claim", Duration.ofSeconds(20), x -> x.lastError != null);
        assertThat(s.lastError).contains("not virtfleet's");
        assertThat(s.state).isEqualTo("NotDefined");
        assertThat(s.id).isEqualTo(-1);
        assertThat(s.pid).isNull();
        assertThat(s.devices).isEmpty();
        assertThat(condition(s, "Synced")).get().extracting(Condition::getReason).isEqualTo("Conflict");
        assertThat(ENV.objects().get("claim").getMetadata().getFinalizers()).isNullOrEmpty();

        // even through resyncs, it is neither stopped nor changed; deleting the claim leaves it alone
        ENV.objects().deleteAndAwaitGone("claim", Duration.ofSeconds(20));
        await().during(RESYNC.multipliedBy(2).plusSeconds(2)).atMost(RESYNC.multipliedBy(2).plusSeconds(10))
                .until(() -> DomainState.RUNNING.statusName().equals(state(uuid)));
        assertThat(DIRECT.connect().domainLookupByUUIDString(uuid).getID()).isEqualTo(id);
        assertThat(DIRECT.connect().domainLookupByUUIDString(uuid).getXMLDesc(org.libvirt.Domain.XMLFlags.INACTIVE))
                .isEqualTo(xmlBefore);
    }

    @Test
    void aMarkedDomainWithoutItsDomainIsFencedOneMarkedForAnotherHostIsLeftAlone() throws Exception {
        // marked for this host, no Domain object at all: an orphan, undefined
        String name = TestEnv.newDomainName();
        String orphan = UUID.randomUUID().toString();
        String disk = TestEnv.IMAGES.resolve(name + ".qcow2").toString();
        DIRECT.define(orphan, xml(name, orphan, disk, true));
        long t0 = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> DomainState.NOT_DEFINED.equals(state(orphan)));
        LOG.info("TIMING orphan marked domain defined by hand -> fenced (undefined): {} ms",
                (System.nanoTime() - t0) / 1_000_000);

        // a domain marked for another host is none of this agent's business, even without a Domain
        String other = TestEnv.newDomainName();
        String foreign = UUID.randomUUID().toString();
        DIRECT.define(foreign, xml(other, foreign, TestEnv.IMAGES.resolve(other + ".qcow2").toString(),
                "some-other-host"));
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6))
                .until(() -> !DomainState.NOT_DEFINED.equals(state(foreign)));
    }

    @Test
    void diskOutsideTheAllowedRootsIsRefused() throws Exception {
        String name = TestEnv.newDomainName();
        String uuid = UUID.randomUUID().toString();
        ENV.objects().create(domainObject("shadow", uuid, xml(name, uuid, "/etc/shadow", true), "Running"));
        DomainStatus s = ENV.objects().awaitStatus("shadow", Duration.ofSeconds(20), x -> x.lastError != null);
        LOG.info("refusal: {}", s.lastError);
        assertThat(s.lastError).contains("/etc/shadow").contains("outside the allowed roots");
        assertThat(s.state).isEqualTo("NotDefined");
        assertThat(condition(s, "Synced")).get().satisfies(c -> {
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("InvalidSpec");
            assertThat(c.getMessage()).contains("/etc/shadow");
        });
        assertThat(state(uuid)).isEqualTo(DomainState.NOT_DEFINED);
        assertThat(ENV.objects().get("shadow").getMetadata().getFinalizers()).isNullOrEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> ENV.objects().eventReasons("shadow").contains("InvalidSpec"));

        // a symlink inside the root that points at it is refused too
        Path link = TestEnv.IMAGES.resolve(name + "-link.qcow2");
        try {
            Files.createSymbolicLink(link, Path.of("/etc/shadow"));
            ENV.objects().edit("shadow", x -> x.getSpec().domainXml = xml(name, uuid, link.toString(), true));
            ENV.objects().awaitStatus("shadow", Duration.ofSeconds(20), x -> x.lastError != null
                    && x.lastError.contains("resolves to /etc/shadow"));
            assertThat(state(uuid)).isEqualTo(DomainState.NOT_DEFINED);
        } finally {
            Files.deleteIfExists(link);
        }
    }
}
