package io.virtfleet.e2e.support;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Tees {@link System#err} (where the in-process operator's and agent's log goes) into memory, for tests that grep
 * every log line, e.g. for Secret content that must never appear. {@link #close} restores the old stream.
 */
public final class StderrCapture implements AutoCloseable {
    private final PrintStream previous = System.err;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    private StderrCapture() {
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                previous.write(b);
                synchronized (captured) {
                    captured.write(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                previous.write(b, off, len);
                synchronized (captured) {
                    captured.write(b, off, len);
                }
            }
        }, true));
    }

    public static StderrCapture start() {
        return new StderrCapture();
    }

    /** Everything written to stderr since {@link #start}. */
    public String text() {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        System.setErr(previous);
    }
}
