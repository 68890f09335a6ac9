package io.virtfleet.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainMigration;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.lifecycle.DomainStates;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations;
import io.virtfleet.reconcilers.lifecycle.XmlFingerprint;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Domain cache keeps no domain XML, only its digest and fingerprint: whatever the reconciler decides from a cached
 * Domain (up to date? what changed since boot?) must be what it decided from the full object.
 */
class CachedDomainSpecTest {
    private static final String XML = "<domain type='qemu'><name>vf-n_v</name><memory unit='KiB'>1048576</memory>"
            + "<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
            + "<disk type='file' device='disk'><source file='/var/lib/virtfleet/images/v.qcow2'/>"
            + "<target dev='vda' bus='virtio'/><alias name='ua-root'/></disk></devices></domain>";
    private static final String XML_MORE_MEMORY = XML.replace("1048576", "2097152");

    private static VirtualMachine vm() {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName("v").withNamespace("n").withUid("u-1").build());
        vm.setSpec(new VirtualMachineSpec());
        return vm;
    }

    private static DomainSpec spec(String xml) {
        DomainSpec s = new DomainSpec();
        s.host = "h1";
        s.powerState = DomainSpec.POWER_RUNNING;
        s.uuid = "0a4e4c1e-5b5e-4c3a-9d0e-7a4f1f2b3c4d";
        s.domainXml = xml;
        s.genid = "946bba88-f335-4731-94ff-c785c1e7230e";
        s.genidGeneration = 2L;
        s.restartGeneration = 3L;
        s.shutdownTimeoutSeconds = 120;
        return s;
    }

    /** What the informer hands the store: the object as the API server returns it (a JSON round trip). */
    private static Domain fromServer(Domain applied, String state) {
        Domain d = Serialization.unmarshal(Serialization.asJson(applied), Domain.class);
        d.getMetadata().setResourceVersion("7");
        d.setStatus(new DomainStatus());
        d.getStatus().state = state;
        return d;
    }

    private static Domain desired(String xml, String bootXml) {
        return DomainObjects.desired(vm(), spec(xml),
                Map.of(LifecycleAnnotations.BOOT_FINGERPRINT, XmlFingerprint.of(bootXml)));
    }

    @Test
    void theCachedSpecHasEveryFieldButTheXml() {
        Domain full = fromServer(desired(XML, XML), DomainStates.RUNNING);
        full.getSpec().migration = new DomainMigration();
        full.getSpec().migration.targetHost = "h2";
        full.getSpec().disks = List.of(new VirtualMachineSpec.Disk());
        ObjectNode before = new ObjectMapper().valueToTree(Serialization.unmarshal(Serialization.asJson(full),
                Domain.class).getSpec());

        Domain cached = CachedDomainSpec.prune(null, full);

        assertThat(cached.getSpec()).isInstanceOf(CachedDomainSpec.class);
        assertThat(cached.getSpec().domainXml).isNull();
        before.remove("domainXml");
        assertThat((Object) new ObjectMapper().valueToTree(cached.getSpec())).isEqualTo(before);
        assertThat(DomainObjects.hasXml(cached.getSpec())).isTrue();
        assertThat(DomainObjects.xmlDigest(cached.getSpec())).isEqualTo(DomainObjects.sha256(XML));
        assertThat(DomainObjects.xmlFingerprint(cached.getSpec())).isEqualTo(XmlFingerprint.of(XML));
        // what the operator would send never carries the cache's own fields
        assertThat(Serialization.asJson(cached)).doesNotContain("xmlDigest").doesNotContain("xmlFingerprint");
    }

    @Test
    void upToDateDecidesTheSameOnACachedDomain() {
        Domain cached = CachedDomainSpec.prune(null, fromServer(desired(XML, XML), DomainStates.RUNNING));

        assertThat(DomainObjects.upToDate(desired(XML, XML), cached)).isTrue();
        assertThat(DomainObjects.upToDate(desired(XML_MORE_MEMORY, XML), cached)).isFalse();
        Domain otherPower = desired(XML, XML);
        otherPower.getSpec().powerState = DomainSpec.POWER_STOPPED;
        assertThat(DomainObjects.upToDate(otherPower, cached)).isFalse();
        Domain otherBoot = desired(XML, XML_MORE_MEMORY);
        assertThat(DomainObjects.upToDate(otherBoot, cached)).isFalse();
        // and on the full object (JOSDK's copy of an apply's response) as before
        assertThat(DomainObjects.upToDate(desired(XML, XML), fromServer(desired(XML, XML), "Running"))).isTrue();
        assertThat(DomainObjects.upToDate(desired(XML_MORE_MEMORY, XML), fromServer(desired(XML, XML), "Running")))
                .isFalse();
    }

    @Test
    void restartChangesAreTheSameOnACachedDomain() {
        // booted with 1 GiB, the Domain now says 2 GiB: memory needs a restart
        Domain full = fromServer(desired(XML_MORE_MEMORY, XML), DomainStates.RUNNING);
        full.getStatus().observedRestartGeneration = full.getSpec().restartGeneration;
        List<String> want = VirtualMachineReconciler.restartChanges(full);
        assertThat(want).containsExactly("memory");

        Domain cached = CachedDomainSpec.prune(null, fromServer(desired(XML_MORE_MEMORY, XML), DomainStates.RUNNING));
        cached.getStatus().observedRestartGeneration = cached.getSpec().restartGeneration;
        assertThat(VirtualMachineReconciler.restartChanges(cached)).isEqualTo(want);
    }

    @Test
    void anUpdateWithTheSameXmlReusesTheFingerprintAndAChangedXmlIsFingerprintedAgain() {
        // (booted with another XML, so the boot annotation's string is not the one kept)
        Domain first = CachedDomainSpec.prune(null, fromServer(desired(XML, XML_MORE_MEMORY), DomainStates.NOT_DEFINED));
        Domain statusOnly = CachedDomainSpec.prune(first, fromServer(desired(XML, XML_MORE_MEMORY),
                DomainStates.RUNNING));
        assertThat(((CachedDomainSpec) statusOnly.getSpec()).xmlFingerprint)
                .isSameAs(((CachedDomainSpec) first.getSpec()).xmlFingerprint);

        Domain changed = CachedDomainSpec.prune(first, fromServer(desired(XML_MORE_MEMORY, XML), DomainStates.RUNNING));
        assertThat(DomainObjects.xmlFingerprint(changed.getSpec())).isEqualTo(XmlFingerprint.of(XML_MORE_MEMORY));
        assertThat(DomainObjects.xmlDigest(changed.getSpec())).isEqualTo(DomainObjects.sha256(XML_MORE_MEMORY));
    }

    @Test
    void theFingerprintOfADomainRunningWhatItBootedIsTheBootAnnotationsString() {
        Domain cached = CachedDomainSpec.prune(null, fromServer(desired(XML, XML), DomainStates.RUNNING));
        assertThat(DomainObjects.xmlFingerprint(cached.getSpec()))
                .isSameAs(cached.getMetadata().getAnnotations().get(LifecycleAnnotations.BOOT_FINGERPRINT));
    }

    @Test
    void theOperatorsClientInternsShortStringsItReads() {
        var json = InterningSerialization.create();
        Domain full = fromServer(desired(XML, XML), DomainStates.RUNNING);
        String text = Serialization.asJson(full);
        Domain a = json.unmarshal(text, Domain.class);
        Domain b = json.unmarshal(text, Domain.class);
        assertThat(a.getMetadata().getNamespace()).isSameAs(b.getMetadata().getNamespace());
        assertThat(a.getMetadata().getLabels().get(io.virtfleet.api.v1alpha1.ApiGroup.HOST_LABEL))
                .isSameAs(b.getSpec().host);
        assertThat(a.getStatus().state).isSameAs(DomainStates.RUNNING);
        assertThat(a.getMetadata().getOwnerReferences().get(0).getKind()).isSameAs("VirtualMachine");
        // long text is not interned, and nothing reads differently
        assertThat(a.getSpec().domainXml).isEqualTo(XML).isNotSameAs(b.getSpec().domainXml);
        assertThat(json.asJson(a)).isEqualTo(Serialization.asJson(full));
    }

    @Test
    void aDomainWithoutXmlOrWithXmlThatDoesNotParseIsCachedWhole() {
        Domain noXml = fromServer(desired(XML, XML), DomainStates.RUNNING);
        noXml.getSpec().domainXml = null;
        assertThat(CachedDomainSpec.prune(null, noXml).getSpec()).isNotInstanceOf(CachedDomainSpec.class);
        assertThat(DomainObjects.hasXml(noXml.getSpec())).isFalse();

        Domain garbage = fromServer(desired(XML, XML), DomainStates.RUNNING);
        garbage.getSpec().domainXml = "<domain";
        assertThat(CachedDomainSpec.prune(null, garbage).getSpec().domainXml).isEqualTo("<domain");
    }
}
