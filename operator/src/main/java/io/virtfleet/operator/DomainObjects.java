package io.virtfleet.operator;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations;
import io.virtfleet.reconcilers.lifecycle.XmlFingerprint;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/** Building the Domain the operator applies, and telling whether the one in the cluster already says the same. */
final class DomainObjects {
    /** The Domain annotations the operator owns (server-side apply removes those it stops sending). */
    static final List<String> OWNED_ANNOTATIONS = List.of(LifecycleAnnotations.LAST_HANDLED_REQUEST,
            LifecycleAnnotations.STOP_REASON, LifecycleAnnotations.AUTO_RESTART_COUNT,
            LifecycleAnnotations.LAST_AUTO_RESTART, LifecycleAnnotations.BOOT_FINGERPRINT);
    /** Serializes specs for comparison: absent and null fields alike, as the API server stores them. */
    private static final ObjectMapper SPEC_JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);
    private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");

    private DomainObjects() {
    }

    /**
     * The full apply configuration: everything the operator owns in the Domain, nothing else. It lists the agent's
     * finalizer, so the agent spends no write on adding it before it defines the libvirt domain; every apply must
     * list it (server-side apply removes a list item its manager applied before and omits now, unless another
     * manager owns it too). Never applied to a Domain being deleted: the API server refuses new finalizers then,
     * and the reconciler does not apply to one.
     */
    static Domain desired(VirtualMachine vm, DomainSpec spec, Map<String, String> annotations) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(ApiGroup.HOST_LABEL, labelValue(spec.host));
        labels.put(ApiGroup.VM_LABEL, labelValue(vm.getMetadata().getName()));
        Map<String, String> anns = new LinkedHashMap<>();
        for (String k : OWNED_ANNOTATIONS) {
            String v = annotations.get(k);
            if (v != null) {
                anns.put(k, v);
            }
        }
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder()
                .withName(vm.getMetadata().getName())
                .withNamespace(vm.getMetadata().getNamespace())
                .withLabels(labels)
                .withAnnotations(anns.isEmpty() ? null : anns)
                .withOwnerReferences(ownerReference(vm))
                .withFinalizers(ApiGroup.AGENT_FINALIZER)
                .build());
        d.setSpec(spec);
        return d;
    }

    /** Both specs say the same, field by field as serialized, leaving out the domain XML (compared by digest). */
    private static boolean sameBesidesXml(DomainSpec a, DomainSpec b) {
        ObjectNode x = SPEC_JSON.valueToTree(a);
        ObjectNode y = SPEC_JSON.valueToTree(b);
        x.remove("domainXml");
        y.remove("domainXml");
        return x.equals(y);
    }

    /** The SHA-256 of the spec's domain XML (hex), for a full or a {@link CachedDomainSpec}; null without one. */
    static String xmlDigest(DomainSpec s) {
        if (s instanceof CachedDomainSpec c) {
            return c.xmlDigest;
        }
        return s == null || s.domainXml == null ? null : sha256(s.domainXml);
    }

    /** The spec carries a domain XML (perhaps only as a cached digest and fingerprint). */
    static boolean hasXml(DomainSpec s) {
        return s instanceof CachedDomainSpec || s != null && s.domainXml != null;
    }

    /** The {@link XmlFingerprint} of the spec's domain XML; throws IllegalArgumentException when it does not parse. */
    static String xmlFingerprint(DomainSpec s) {
        return s instanceof CachedDomainSpec c ? c.xmlFingerprint : XmlFingerprint.of(s.domainXml);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A deep copy of a Domain spec (every field, as serialized). */
    static DomainSpec copy(DomainSpec s) {
        return io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
                io.fabric8.kubernetes.client.utils.Serialization.asJson(s), DomainSpec.class);
    }

    static OwnerReference ownerReference(VirtualMachine vm) {
        return new OwnerReferenceBuilder()
                .withApiVersion(ApiGroup.API_VERSION)
                .withKind("VirtualMachine")
                .withName(vm.getMetadata().getName())
                .withUid(vm.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build();
    }

    /** The Domain says everything {@code desired} says (spec, labels, owned annotations, controller reference). */
    static boolean upToDate(Domain desired, Domain current) {
        if (current == null || current.getSpec() == null) {
            return false;
        }
        // The whole spec, field by field as it is serialized: no hand list to forget a new field in. The domain XML
        // by its digest: the cache keeps no XML (CachedDomainSpec).
        if (!Objects.equals(xmlDigest(desired.getSpec()), xmlDigest(current.getSpec()))
                || !sameBesidesXml(desired.getSpec(), current.getSpec())) {
            return false;
        }
        ObjectMeta dm = desired.getMetadata();
        ObjectMeta cm = current.getMetadata();
        Map<String, String> cl = cm.getLabels() == null ? Map.of() : cm.getLabels();
        for (Map.Entry<String, String> e : dm.getLabels().entrySet()) {
            if (!e.getValue().equals(cl.get(e.getKey()))) {
                return false;
            }
        }
        Map<String, String> da = dm.getAnnotations() == null ? Map.of() : dm.getAnnotations();
        Map<String, String> ca = cm.getAnnotations() == null ? Map.of() : cm.getAnnotations();
        for (String k : OWNED_ANNOTATIONS) {
            if (!Objects.equals(da.get(k), ca.get(k))) {
                return false;
            }
        }
        OwnerReference want = dm.getOwnerReferences().get(0);
        return cm.getOwnerReferences() != null && cm.getOwnerReferences().stream().anyMatch(r ->
                Objects.equals(r.getUid(), want.getUid()) && Boolean.TRUE.equals(r.getController())
                        && Boolean.TRUE.equals(r.getBlockOwnerDeletion()));
    }

    /** The Domain's controller is this VM (by uid). */
    static boolean ownedBy(Domain domain, VirtualMachine vm) {
        OwnerReference c = controller(domain);
        return c != null && Objects.equals(c.getUid(), vm.getMetadata().getUid());
    }

    static OwnerReference controller(Domain domain) {
        if (domain.getMetadata() == null || domain.getMetadata().getOwnerReferences() == null) {
            return null;
        }
        return domain.getMetadata().getOwnerReferences().stream()
                .filter(r -> Boolean.TRUE.equals(r.getController())).findFirst().orElse(null);
    }

    static Map<String, String> annotations(Domain d) {
        return d == null || d.getMetadata() == null || d.getMetadata().getAnnotations() == null ? Map.of()
                : d.getMetadata().getAnnotations();
    }

    /** A label value: the string itself when valid, else a 63-character prefix with a hash of the whole. */
    static String labelValue(String s) {
        if (s == null) {
            return "";
        }
        if (s.length() <= 63 && LABEL_VALUE.matcher(s).matches()) {
            return s;
        }
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)), 0, 5);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String head = s.replaceAll("[^-A-Za-z0-9_.]", "-");
        head = head.substring(0, Math.min(head.length(), 52)).replaceAll("^[^A-Za-z0-9]+", "");
        return (head.isEmpty() ? "" : head + "-") + hash;
    }
}
