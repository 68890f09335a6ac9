package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

import java.util.function.BinaryOperator;

/**
 * An informer store that drops what the operator never reads before an object is cached: {@code managedFields}
 * (server-side apply's per-manager field sets, about as large as the object itself for a VM or Domain) and kubectl's
 * {@code last-applied-configuration} annotation (a second copy of the whole object for a client-side applied VM).
 * The informer hands its handlers the same instance, so what the reconciler sees and what is cached agree. The
 * objects come fresh from the informer's own deserialization, so pruning them in place affects nobody else.
 *
 * <p>One store backs one informer. JOSDK runs one informer per namespace when an operator watches several, and
 * would hand them all the one store it is given (each informer's relist then drops the others' objects), so
 * {@link #forNamespaces} gives null (fabric8's own store per informer, objects unpruned) in that case.
 *
 * <p>Safe because the operator writes with server-side apply and force, never compares managedFields, and reads
 * ownership (which manager owns a field) only from the API server, never from a cache.
 */
final class PrunedItemStore<T extends HasMetadata> extends BasicItemStore<T> {
    static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    private final BinaryOperator<T> more;

    PrunedItemStore() {
        this((previous, obj) -> obj);
    }

    /**
     * Also applies {@code more} (in place, like the rest) to each object before it is cached; it gets the cached
     * version it replaces (or null) and the new one.
     */
    PrunedItemStore(BinaryOperator<T> more) {
        super(Cache::metaNamespaceKeyFunc);
        this.more = more;
    }

    /** A store for an informer watching {@code namespaces} (empty: all); null when that is several informers. */
    static <T extends HasMetadata> PrunedItemStore<T> forNamespaces(java.util.Set<String> namespaces) {
        return forNamespaces(namespaces, (previous, obj) -> obj);
    }

    static <T extends HasMetadata> PrunedItemStore<T> forNamespaces(java.util.Set<String> namespaces,
                                                                     BinaryOperator<T> more) {
        return namespaces.size() > 1 ? null : new PrunedItemStore<>(more);
    }

    @Override
    public T put(String key, T obj) {
        return super.put(key, more.apply(get(key), prune(obj)));
    }

    static <T extends HasMetadata> T prune(T obj) {
        ObjectMeta m = obj == null ? null : obj.getMetadata();
        if (m != null) {
            m.setManagedFields(null);
            if (m.getAnnotations() != null && m.getAnnotations().containsKey(LAST_APPLIED)) {
                m.getAnnotations().remove(LAST_APPLIED);
            }
        }
        return obj;
    }
}
