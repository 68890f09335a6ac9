package io.virtfleet.e2e.reliability;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Disk images for the fault-injection driver's DOWNLOAD, served on loopback only: each {@link #newImage()} is a qcow2
 * (the test guest's data disk) followed by one sector naming it, so each has a SHA-256 of its own and no image cache
 * holds it already (qcow2 ignores data past its last cluster).
 */
final class ImageServer implements AutoCloseable {
    /** One image: where it is served and what its SHA-256 is. */
    record Image(String url, String sha256) {
    }

    private final HttpServer http;
    private final byte[] base;
    private final String tag;
    private final Map<String, byte[]> images = new ConcurrentHashMap<>();
    private final AtomicInteger counter = new AtomicInteger();

    ImageServer(Path qcow2, String tag) throws IOException {
        this.base = Files.readAllBytes(qcow2);
        this.tag = tag;
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/images/", ex -> {
            byte[] body = images.get(ex.getRequestURI().getPath().substring("/images/".length()));
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            } catch (IOException e) {
                // the agent gave up reading (its disk is full): nothing to do here
            }
        });
        http.start();
    }

    Image newImage() {
        String name = "rel-" + counter.incrementAndGet() + ".qcow2";
        byte[] marker = new byte[512];
        byte[] id = ("virtfleet reliability image " + tag + " " + name).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(id, 0, marker, 0, Math.min(id.length, marker.length));
        byte[] body = new byte[base.length + marker.length];
        System.arraycopy(base, 0, body, 0, base.length);
        System.arraycopy(marker, 0, body, base.length, marker.length);
        images.put(name, body);
        try {
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
            return new Image("http://127.0.0.1:" + http.getAddress().getPort() + "/images/" + name, sha);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
