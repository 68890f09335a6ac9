package io.virtfleet.agent.domain;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per libvirt domain (by UUID), held by every agent pass that reads and then changes one domain: the Domain
 * sync and the snapshot/restore work. Without it a sync pass could redefine a domain from its Domain spec between a
 * snapshot revert and the re-stamping of the definition the revert brought back.
 */
public final class DomainLocks {
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    /** Takes the lock of {@code uuid}; close the result to release it ({@code try (var held = locks.hold(u))}). */
    public Held hold(String uuid) {
        ReentrantLock lock = locks.computeIfAbsent(uuid.toLowerCase(Locale.ROOT), k -> new ReentrantLock());
        lock.lock();
        return lock::unlock;
    }

    /** A held lock. */
    @FunctionalInterface
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }
}
