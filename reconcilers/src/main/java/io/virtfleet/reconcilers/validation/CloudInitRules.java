package io.virtfleet.reconcilers.validation;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec.CloudInit;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec.SecretRef;
import io.virtfleet.reconcilers.platform.Platform;

import java.nio.charset.StandardCharsets;

/**
 * Rules for spec.cloudInit. Inline data is limited like KubeVirt's cloudInitNoCloud (2048 bytes of user data) because
 * the VM's spec is copied into every object rendered from it; larger or secret data goes in a Secret of the VM's own
 * namespace, which only the agent of the VM's host reads (and limits to {@link #MAX_SECRET_BYTES}).
 */
final class CloudInitRules {
    /** A Kubernetes Secret holds at most 1 MiB; the seed never needs more than that per file. */
    static final int MAX_SECRET_BYTES = 1024 * 1024;

    private CloudInitRules() {
    }

    static void check(CloudInit c, String namespace, Platform platform, Errors errors) {
        if (c == null) {
            return;
        }
        String p = "spec.cloudInit";
        if (platform != null && platform.family() == Platform.Family.OPENVZ) {
            errors.add(p, "openvz containers have no disk for the cidata seed (no block devices); cloudInit is not "
                    + "supported");
            return;
        }
        source(p, "userData", c.userData, c.userDataSecretRef, CloudInit.MAX_INLINE_BYTES, namespace, errors);
        source(p, "networkData", c.networkData, c.networkDataSecretRef, CloudInit.MAX_INLINE_NETWORK_BYTES, namespace,
                errors);
    }

    private static void source(String p, String key, String inline, SecretRef ref, int max, String namespace,
                               Errors errors) {
        if (inline != null && ref != null) {
            errors.add(p + "." + key, "set either " + key + " or " + key + "SecretRef, not both");
            return;
        }
        if (inline != null) {
            inline(p + "." + key, inline, max, key, errors);
        }
        if (ref != null) {
            secretRef(p + "." + key + "SecretRef", ref, namespace, errors);
        }
    }

    /** cloud-init reads the seed's files as text; a NUL or broken UTF-16 would not survive the round trip. */
    private static void inline(String f, String data, int max, String key, Errors errors) {
        for (int i = 0; i < data.length(); i++) {
            char c = data.charAt(i);
            if (c == 0) {
                errors.add(f, "contains a NUL character at position " + i);
                return;
            }
            if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < data.length()
                    && Character.isLowSurrogate(data.charAt(i + 1)))
                    && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(data.charAt(i - 1)))) {
                errors.add(f, "contains an unpaired surrogate at position " + i);
                return;
            }
        }
        int bytes = data.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > max) {
            errors.add(f, "too large (" + bytes + " bytes, at most " + max + " inline); put it in a Secret and use "
                    + key + "SecretRef");
        }
    }

    private static void secretRef(String f, SecretRef ref, String namespace, Errors errors) {
        if (ref.name == null || ref.name.isEmpty()) {
            errors.add(f + ".name", "required");
        } else if (Checks.text(errors, f + ".name", ref.name) && !Names.isDnsSubdomain(ref.name)) {
            errors.add(f + ".name", Text.quote(ref.name) + " is not a Secret name (a DNS subdomain)");
        }
        if (ref.namespace != null && Checks.text(errors, f + ".namespace", ref.namespace)) {
            if (namespace == null || namespace.isEmpty()) {
                // Without metadata.namespace the VM lands in whatever namespace kubectl is given; omit the field.
                errors.add(f + ".namespace", "a VM reads Secrets of its own namespace only; omit namespace (or set "
                        + "metadata.namespace to " + Text.quote(ref.namespace) + ")");
            } else if (!ref.namespace.equals(namespace)) {
                errors.add(f + ".namespace", "a VM reads Secrets of its own namespace only (" + Text.quote(namespace)
                        + ", not " + Text.quote(ref.namespace) + ")");
            }
        }
    }
}
