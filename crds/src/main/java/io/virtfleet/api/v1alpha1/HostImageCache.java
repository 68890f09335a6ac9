package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * The bound of a host's image cache ({@code Host.spec.imageCache}), set by the cluster admin (the agent's apply of
 * the Host spec never includes it, so server-side apply leaves it to its owner). The rule uses the Kubernetes CEL
 * quantity library ({@code isQuantity}, {@code quantity(...).isGreaterThan}), so a zero, negative or malformed size
 * is refused by the apiserver with the field named.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.maxSize) || (isQuantity(string(self.maxSize)) "
        + "&& quantity(string(self.maxSize)).isGreaterThan(quantity('0')))",
        message = "must be a positive quantity of bytes, e.g. 50Gi", fieldPath = ".maxSize")
public class HostImageCache {
    @JsonPropertyDescription("Most bytes the host's image cache may hold, as a Kubernetes quantity (e.g. 50Gi). Above "
            + "it the agent deletes cached bases no disk on the host uses, least recently used first; a base in use is "
            + "never deleted (status.imageCache says when the cache stays over the limit, and why). Absent: no limit. "
            + "A cache under a shared disk root is never evicted by one host.")
    public Quantity maxSize;

    public HostImageCache() {
    }

    public HostImageCache(Quantity maxSize) {
        this.maxSize = maxSize;
    }
}
