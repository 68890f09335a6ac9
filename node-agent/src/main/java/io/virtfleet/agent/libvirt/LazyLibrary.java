package io.virtfleet.agent.libvirt;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * A JNA binding loaded on first use: a host without the native library (or a test that never calls it) loads
 * nothing, and a failed load (UnsatisfiedLinkError) is tried again by the next caller instead of being remembered.
 *
 * @param <T> the JNA interface
 */
public final class LazyLibrary<T extends Library> {
    private final String name;
    private final Class<T> type;
    private volatile T library;

    /** {@code name} as {@link Native#load(String, Class)} takes it, e.g. "virt" for libvirt.so.0, "c" for libc. */
    public LazyLibrary(String name, Class<T> type) {
        this.name = name;
        this.type = type;
    }

    public T get() {
        T l = library;
        if (l == null) {
            synchronized (this) {
                if (library == null) {
                    library = Native.load(name, type);
                }
                l = library;
            }
        }
        return l;
    }
}
