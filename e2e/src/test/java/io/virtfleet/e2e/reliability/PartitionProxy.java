package io.virtfleet.e2e.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP proxy on loopback between one component and the kube-apiserver, which the fault-injection driver can cut: a
 * network partition of that component alone. While cut, every open connection is dropped and new ones are accepted
 * but never answered (a black hole, as a partitioned network looks to the client: requests time out, watches stall);
 * healing closes the held ones so the client reconnects at once. TLS passes through untouched.
 */
final class PartitionProxy implements AutoCloseable {
    private final InetSocketAddress target;
    private final ServerSocket server;
    private final List<Socket> open = new ArrayList<>();
    private final List<Socket> held = new ArrayList<>();
    private volatile boolean cut;
    private volatile boolean closed;

    PartitionProxy(String targetHost, int targetPort) throws IOException {
        this.target = new InetSocketAddress(targetHost, targetPort);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "partition-proxy-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Drops every connection and black-holes new ones until {@link #heal()}. */
    synchronized void cut() {
        cut = true;
        open.forEach(PartitionProxy::closeQuietly);
        open.clear();
    }

    synchronized void heal() {
        cut = false;
        held.forEach(PartitionProxy::closeQuietly);
        held.clear();
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            synchronized (this) {
                if (cut) {
                    held.add(client);
                    continue;
                }
            }
            try {
                Socket upstream = new Socket();
                upstream.connect(target, 5000);
                synchronized (this) {
                    open.add(client);
                    open.add(upstream);
                }
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                closeQuietly(client);
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // either side closed (or the partition cut it)
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                synchronized (this) {
                    open.remove(from);
                    open.remove(to);
                }
            }
        }, "partition-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // gone already
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeQuietly(server);
        open.forEach(PartitionProxy::closeQuietly);
        held.forEach(PartitionProxy::closeQuietly);
    }

    private static void closeQuietly(ServerSocket s) {
        try {
            s.close();
        } catch (IOException e) {
            // gone already
        }
    }
}
