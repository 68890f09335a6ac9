package io.virtfleet.e2e.cloud;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Image files of a test served over HTTP on loopback only (the agents download from 127.0.0.1), every GET of one
 * counted, so a test can tell a download from a reuse of the host's image cache.
 */
final class ServedImages {
    private final HttpServer http;

    ServedImages() throws IOException {
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    }

    /**
     * Appends one 512-byte sector holding {@code text} to {@code image} and returns the file's SHA-256 (hex): an image
     * of this run's own, which no image cache holds yet (QEMU ignores data past a qcow2 image's last cluster; in a raw
     * image it is one more sector the guest does not read).
     */
    static String markAndHash(Path image, String text) throws IOException {
        byte[] marker = new byte[512];
        byte[] id = text.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(id, 0, marker, 0, id.length);
        Files.write(image, marker, StandardOpenOption.APPEND);
        try (InputStream in = Files.newInputStream(image)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Serves {@code file} at {@code path} (from {@link #start()} on), counting every GET in {@code downloads}. */
    void serve(String path, Path file, AtomicInteger downloads) {
        http.createContext(path, ex -> {
            downloads.incrementAndGet();
            ex.sendResponseHeaders(200, Files.size(file));
            try (OutputStream out = ex.getResponseBody()) {
                Files.copy(file, out);
            }
        });
    }

    void start() {
        http.start();
    }

    String url(String path) {
        return "http://127.0.0.1:" + http.getAddress().getPort() + path;
    }

    /** Stops serving, as {@link HttpServer#stop(int)}: waiting at most {@code delaySeconds} for open exchanges. */
    void stop(int delaySeconds) {
        http.stop(delaySeconds);
    }
}
