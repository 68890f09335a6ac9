package io.virtfleet.agent.host;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.agent.domain.EventRecorder;
import io.virtfleet.agent.image.CacheEviction;
import io.virtfleet.agent.image.CacheKeeper;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostImageCacheStatus;

import java.math.BigDecimal;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;

/**
 * The image cache keeper's link to the Host: its limit comes from {@code spec.imageCache.maxSize} (read at each run,
 * so an admin's change applies at the next one), and each run's {@link CacheKeeper.Report} goes to
 * {@code status.imageCache}, with an {@code ImageEvicted} Event per deleted base and an {@code ImageCacheOverLimit}
 * warning when the cache becomes (or stays, for a new reason) over its limit with nothing it may delete.
 */
public final class ImageCacheRecords {
    public static final String EVICTED = "ImageEvicted";
    public static final String OVER_LIMIT = "ImageCacheOverLimit";
    static final String FIELD = "spec.imageCache.maxSize";

    private final HostRegistrar registrar;
    private final EventRecorder events;
    private final String cacheRoot;
    private volatile Host lastHost;
    private String lastOverLimit;

    public ImageCacheRecords(HostRegistrar registrar, EventRecorder events, String cacheRoot) {
        this.registrar = registrar;
        this.events = events;
        this.cacheRoot = cacheRoot;
    }

    /** {@code spec.imageCache.maxSize} in bytes, {@link CacheEviction#UNBOUNDED} when absent. */
    public long limitBytes() {
        Host h = registrar.read();
        if (h == null) {
            throw new IllegalStateException("Host " + registrar.host() + " does not exist");
        }
        lastHost = h;
        Quantity q = h.getSpec() == null || h.getSpec().imageCache == null ? null : h.getSpec().imageCache.maxSize;
        return limitBytes(q);
    }

    /** The limit a quantity sets (null: none); the apiserver's schema refuses the bad ones, this names the field. */
    static long limitBytes(Quantity q) {
        if (q == null) {
            return CacheEviction.UNBOUNDED;
        }
        BigDecimal b;
        try {
            b = Quantity.getAmountInBytes(q);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IllegalArgumentException(FIELD + ": '" + q + "' is not a quantity");
        }
        if (b.signum() <= 0) {
            throw new IllegalArgumentException(FIELD + ": must be positive, not " + q);
        }
        return b.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) >= 0 ? CacheEviction.UNBOUNDED
                : b.setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
    }

    /** Writes the report into Host status and posts its Events. */
    public void record(CacheKeeper.Report r) {
        HostImageCacheStatus s = status(r, cacheRoot);
        registrar.writeImageCache(s);
        Host h = lastHost;
        if (h == null) {
            return;
        }
        for (CacheEviction.Base b : r.evicted()) {
            events.record(h, EventRecorder.NORMAL, EVICTED, "deleted the cached base " + b.name() + " ("
                    + b.bytes() + " bytes, last used " + b.lastUsed().truncatedTo(ChronoUnit.SECONDS)
                    + ") from " + cacheRoot + ": no disk on this host uses it; " + r.message());
        }
        String over = r.overLimit() ? CacheKeeper.gist(r.message()) : null;
        if (over != null && !over.equals(lastOverLimit)) {
            events.record(h, EventRecorder.WARNING, OVER_LIMIT, "the image cache " + cacheRoot
                    + " stays over its limit: " + r.message());
        }
        lastOverLimit = over;
    }

    /** The status a report shows. Pure. */
    static HostImageCacheStatus status(CacheKeeper.Report r, String cacheRoot) {
        HostImageCacheStatus s = new HostImageCacheStatus();
        s.path = cacheRoot;
        s.usedBytes = r.usedBytes();
        s.limitBytes = r.limitBytes() == CacheEviction.UNBOUNDED ? null : r.limitBytes();
        s.bases = r.bases().size();
        s.basesInUse = (int) r.bases().stream().filter(b -> r.inUse().contains(b.name())).count();
        s.overLimit = r.overLimit();
        s.shared = r.shared();
        s.message = r.message();
        s.lastCheckTime = r.at().truncatedTo(ChronoUnit.SECONDS).toString();
        if (r.evicted().isEmpty()) {
            s.lastEvicted = null; // the last eviction's record stays as it was
        } else {
            s.lastEvictionTime = s.lastCheckTime;
            s.lastEvicted = new ArrayList<>(r.evicted().stream().map(CacheEviction.Base::name).toList());
        }
        return s;
    }
}
