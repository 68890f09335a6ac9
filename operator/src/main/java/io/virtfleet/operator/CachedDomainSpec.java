package io.virtfleet.operator;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations;
import io.virtfleet.reconcilers.lifecycle.XmlFingerprint;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * A Domain's spec as the operator's Domain cache keeps it: every field but {@code domainXml}, which is replaced by
 * the two things the VM reconciler reads from it, its SHA-256 ({@link #xmlDigest}: is the XML in the cluster the one
 * just rendered?) and its {@link XmlFingerprint} ({@link #xmlFingerprint}: what changed since the domain booted).
 * The domain XML is the largest text of any cached object (4-5 KB per VM, the whole libvirt definition) and nothing
 * else in the operator reads it from the cache.
 *
 * <p>Safe because no cached Domain is ever written back: the reconciler server-side applies the Domain it renders,
 * and every other writer (deletion, migration, failover, restore) reads the Domain from the API server first. Read
 * the XML's digest and fingerprint through {@link DomainObjects#xmlDigest} and {@link DomainObjects#xmlFingerprint},
 * which take a cached or a full spec (JOSDK hands out the apply's response, unpruned, until the informer has the
 * same version).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
final class CachedDomainSpec extends DomainSpec {
    /** DomainSpec's instance fields: copied by reflection so that a field added to DomainSpec is never dropped. */
    private static final List<Field> FIELDS = instanceFields();

    @JsonIgnore
    final String xmlDigest;
    @JsonIgnore
    final String xmlFingerprint;

    private CachedDomainSpec(DomainSpec full, String xmlDigest, String xmlFingerprint) {
        for (Field f : FIELDS) {
            try {
                f.set(this, f.get(full));
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("DomainSpec." + f.getName() + " is not public", e);
            }
        }
        this.domainXml = null;
        this.xmlDigest = xmlDigest;
        this.xmlFingerprint = xmlFingerprint;
    }

    /**
     * {@code obj} (a Domain) with its spec's XML replaced by digest and fingerprint, in place (the informer's own fresh
     * copy); unchanged when there is no XML or it does not parse (then the cache keeps it whole and readers parse it
     * as before). The fingerprint of the version it replaces is reused when the XML is the same (most updates are
     * the agent's status writes), so the XML is parsed once per change, not once per update.
     */
    static <T> T prune(T previous, T obj) {
        if (!(obj instanceof Domain d) || d.getSpec() == null || d.getSpec() instanceof CachedDomainSpec
                || d.getSpec().domainXml == null) {
            return obj;
        }
        String xml = d.getSpec().domainXml;
        String digest = DomainObjects.sha256(xml);
        String fingerprint;
        if (previous instanceof Domain p && p.getSpec() instanceof CachedDomainSpec c && digest.equals(c.xmlDigest)) {
            fingerprint = c.xmlFingerprint;
        } else {
            try {
                fingerprint = XmlFingerprint.of(xml);
            } catch (IllegalArgumentException e) {
                return obj;
            }
        }
        // A domain running the XML it booted with (most of them) has the same text in its boot annotation: keep one.
        String boot = DomainObjects.annotations(d).get(LifecycleAnnotations.BOOT_FINGERPRINT);
        if (fingerprint.equals(boot)) {
            fingerprint = boot;
        }
        d.setSpec(new CachedDomainSpec(d.getSpec(), digest, fingerprint));
        return obj;
    }

    private static List<Field> instanceFields() {
        List<Field> out = new ArrayList<>();
        for (Field f : DomainSpec.class.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers())) {
                out.add(f);
            }
        }
        return out;
    }
}
