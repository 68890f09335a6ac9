package io.virtfleet.controlplane;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * Starts etcd and kube-apiserver for a control plane (or reconnects to detached ones that run), waits until they
 * serve, and hands back the {@link EmbeddedControlPlane}. A lost race for a random port is retried with new ports.
 */
final class ProcessLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessLauncher.class);

    private ProcessLauncher() {
    }

    static EmbeddedControlPlane launch(ControlPlaneBinaries bins, Path requestedDir, boolean detached, boolean keep,
                                      List<Path> crds, Duration timeout, int fixedApiPort, List<String> extraArgs) {
        if (requestedDir == null) {
            StateDir.reapOrphans();
        }
        Path dir;
        try {
            dir = requestedDir != null ? requestedDir.toAbsolutePath() : Files.createTempDirectory(StateDir.EPHEMERAL_PREFIX);
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the control plane's data dir", e);
        }
        boolean deleteOnClose = requestedDir == null && !keep;

        if (detached) {
            EmbeddedControlPlane.Status st = StateDir.status(dir);
            if (st.running()) {
                LOG.info("control plane already running in {} ({})", dir, st.server());
                EmbeddedControlPlane cp = reconnect(bins, dir, timeout);
                installAndReturn(cp, crds, timeout, true);
                return cp;
            }
            if (st.etcdPid() > 0 || st.apiserverPid() > 0) {
                LOG.info("control plane in {} half running; restarting it", dir);
                StateDir.stop(dir);
            }
        }

        IllegalStateException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            EmbeddedControlPlane cp;
            try {
                cp = startProcesses(bins, dir, detached, deleteOnClose, timeout, fixedApiPort, extraArgs,
                        requestedDir == null);
            } catch (PortInUse e) {
                if (fixedApiPort > 0) {
                    throw e;
                }
                LOG.warn("port race on attempt {}: {}; retrying with new ports", attempt, e.getMessage());
                last = e;
                Properties state = StateDir.readState(dir);
                state.remove("etcdPort");
                state.remove("apiPort");
                try {
                    StateDir.writeState(dir, state);
                } catch (IOException io) {
                    throw new UncheckedIOException(io);
                }
                continue;
            } catch (RuntimeException e) {
                if (deleteOnClose) {
                    StateDir.deleteRecursively(dir);
                }
                throw e;
            }
            installAndReturn(cp, crds, timeout, !detached);
            return cp;
        }
        if (deleteOnClose) {
            StateDir.deleteRecursively(dir);
        }
        throw last;
    }

    private static void installAndReturn(EmbeddedControlPlane cp, List<Path> crds, Duration timeout,
                                         boolean closeOnFailure) {
        try {
            if (!crds.isEmpty()) {
                cp.installCrds(crds, timeout);
            }
        } catch (RuntimeException e) {
            if (closeOnFailure) {
                cp.close();
            }
            throw e;
        }
    }

    private static EmbeddedControlPlane reconnect(ControlPlaneBinaries bins, Path dir, Duration timeout) {
        Properties state = StateDir.readState(dir);
        int etcdPort = Integer.parseInt(state.getProperty("etcdPort"));
        int apiPort = Integer.parseInt(state.getProperty("apiPort"));
        String token = state.getProperty("token");
        ProcessHandle etcd = Processes.fromPidFile(dir.resolve(StateDir.ETCD_PID)).orElseThrow();
        ProcessHandle api = Processes.fromPidFile(dir.resolve(StateDir.APISERVER_PID)).orElseThrow();
        try {
            String ca = awaitApiserverReady(dir, apiPort, token, api, timeout);
            Path kc = KubeconfigWriter.write(dir, apiPort, ca, token);
            return new EmbeddedControlPlane(bins, dir, true, false, etcdPort, apiPort, token, ca, kc, etcd, api,
                    null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static EmbeddedControlPlane startProcesses(ControlPlaneBinaries bins, Path dir, boolean detached,
                                                       boolean deleteOnClose, Duration timeout, int fixedApiPort,
                                                       List<String> extraArgs, boolean ephemeral) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Process etcd = null;
        Process api = null;
        Thread hook = null;
        try {
            Properties state = StateDir.readState(dir);
            int etcdPort = reusePort(state.getProperty("etcdPort"));
            int apiPort;
            if (fixedApiPort > 0) {
                if (!Processes.portFree(fixedApiPort)) {
                    throw new IllegalStateException("kube-apiserver port " + fixedApiPort
                            + " on 127.0.0.1 is taken by another process");
                }
                apiPort = fixedApiPort;
                while (etcdPort == apiPort) {
                    etcdPort = Processes.freePort();
                }
            } else {
                apiPort = reusePort(state.getProperty("apiPort"));
                while (apiPort == etcdPort) {
                    apiPort = Processes.freePort();
                }
            }
            String token = state.getProperty("token");
            if (token == null) {
                byte[] b = new byte[24];
                new SecureRandom().nextBytes(b);
                token = HexFormat.of().formatHex(b);
            }
            state.setProperty("etcdPort", Integer.toString(etcdPort));
            state.setProperty("apiPort", Integer.toString(apiPort));
            state.setProperty("token", token);
            state.setProperty("binaries", bins.dir().toString());
            StateDir.writeState(dir, state);
            if (ephemeral) {
                Files.writeString(dir.resolve(StateDir.OWNER_PID), ProcessHandle.current().pid() + "\n");
            }
            Path tokenFile = dir.resolve("tokens.csv");
            Files.writeString(tokenFile, token + "," + EmbeddedControlPlane.ADMIN_USER + "," + EmbeddedControlPlane.ADMIN_USER + ",\"system:masters\"\n");
            StateDir.restrict(tokenFile);
            Path saKey = dir.resolve("sa.key");
            Path saPub = dir.resolve("sa.pub");
            if (!Files.isRegularFile(saKey) || !Files.isRegularFile(saPub)) {
                ControlPlanePki.writeServiceAccountKey(saKey, saPub);
            }
            Path logs = Files.createDirectories(dir.resolve("logs"));
            Path etcdLog = logs.resolve("etcd.log");
            Path apiLog = logs.resolve("kube-apiserver.log");
            if (ephemeral) {
                Files.deleteIfExists(etcdLog);
                Files.deleteIfExists(apiLog);
            }

            String etcdUrl = "http://127.0.0.1:" + etcdPort;
            List<String> etcdCmd = new ArrayList<>(List.of(
                    bins.etcd().toString(),
                    "--name=default",
                    "--data-dir=" + dir.resolve("etcd-data"),
                    "--listen-client-urls=" + etcdUrl,
                    "--advertise-client-urls=" + etcdUrl,
                    // The peer listener is unused by a single member; port 0 avoids a second port to pick.
                    "--listen-peer-urls=http://127.0.0.1:0",
                    "--log-level=warn"));
            if (ephemeral) {
                etcdCmd.add("--unsafe-no-fsync=true");
            }
            etcd = Processes.start(etcdCmd, etcdLog, detached);
            Processes.writePidFile(dir.resolve(StateDir.ETCD_PID), etcd.toHandle(), bins.etcd());
            if (!detached) {
                Process e0 = etcd;
                hook = new Thread(() -> {
                    Optional<ProcessHandle> a = Processes.fromPidFile(dir.resolve(StateDir.APISERVER_PID));
                    StateDir.stopOwned(a.orElse(null), e0.toHandle(), deleteOnClose ? dir : null);
                }, "virtfleet-control-plane-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
            }
            awaitEtcdHealthy(etcdUrl, etcd, etcdLog, remaining(deadline));

            List<String> apiCmd = new ArrayList<>(List.of(
                    bins.kubeApiserver().toString(),
                    "--etcd-servers=" + etcdUrl,
                    "--bind-address=127.0.0.1",
                    "--advertise-address=127.0.0.1",
                    "--secure-port=" + apiPort,
                    "--cert-dir=" + dir.resolve("certs"),
                    "--token-auth-file=" + tokenFile,
                    "--service-cluster-ip-range=" + EmbeddedControlPlane.SERVICE_CLUSTER_IP_RANGE,
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                    "--service-account-key-file=" + saPub,
                    "--service-account-signing-key-file=" + saKey,
                    "--allow-privileged=true",
                    // Endpoints cannot hold a loopback address; nothing needs the kubernetes service's endpoints.
                    "--endpoint-reconciler-type=none",
                    "--enable-priority-and-fairness=false",
                    "--profiling=false",
                    "--v=1"));
            apiCmd.addAll(extraArgs);
            api = Processes.start(apiCmd, apiLog, detached);
            Processes.writePidFile(dir.resolve(StateDir.APISERVER_PID), api.toHandle(), bins.kubeApiserver());
            String ca = awaitApiserverReady(dir, apiPort, token, api.toHandle(), remaining(deadline));
            Path kc = KubeconfigWriter.write(dir, apiPort, ca, token);
            EmbeddedControlPlane cp = new EmbeddedControlPlane(bins, dir, detached, deleteOnClose, etcdPort,
                    apiPort, token, ca, kc, etcd.toHandle(), api.toHandle(), hook);
            KubernetesClient c = cp.client();
            Waits.poll("namespace default", remaining(deadline),
                    () -> c.namespaces().withName("default").get() != null);
            LOG.info("control plane up: {} (etcd pid {}, kube-apiserver pid {})", cp, etcd.pid(), api.pid());
            return cp;
        } catch (IOException | RuntimeException e) {
            Path logs = dir.resolve("logs");
            String diag = "\n--- tail of " + logs.resolve("etcd.log") + "\n" + Processes.tail(logs.resolve("etcd.log"), 20)
                    + "--- tail of " + logs.resolve("kube-apiserver.log") + "\n"
                    + Processes.tail(logs.resolve("kube-apiserver.log"), 40);
            boolean portRace = diag.contains("address already in use");
            if (api != null) {
                Processes.terminate(api.toHandle(), 5_000);
            }
            if (etcd != null) {
                Processes.terminate(etcd.toHandle(), 5_000);
            }
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException ignored) {
                    // shutting down
                }
            }
            try {
                Files.deleteIfExists(dir.resolve(StateDir.APISERVER_PID));
                Files.deleteIfExists(dir.resolve(StateDir.ETCD_PID));
            } catch (IOException ignored) {
                // best effort
            }
            String msg = "control plane failed to start in " + dir + ": " + e.getMessage();
            if (portRace) {
                throw new PortInUse(msg + diag, e);
            }
            LOG.error("{}{}", msg, diag);
            throw new IllegalStateException(msg + diag, e);
        }
    }

    private static int reusePort(String stored) throws IOException {
        if (stored != null) {
            int p = Integer.parseInt(stored);
            if (Processes.portFree(p)) {
                return p;
            }
        }
        return Processes.freePort();
    }

    private static Duration remaining(long deadlineNanos) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new IllegalStateException("timed out starting the control plane");
        }
        return Duration.ofNanos(left);
    }

    private static void awaitEtcdHealthy(String etcdUrl, Process etcd, Path log, Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create(etcdUrl + "/health")).timeout(Duration.ofSeconds(3))
                .GET().build();
        Waits.poll("etcd healthy at " + etcdUrl, timeout, () -> {
            if (!etcd.isAlive()) {
                throw new IllegalStateException("etcd exited with code " + etcd.exitValue());
            }
            try {
                HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        });
    }

    /** Waits for the self-signed serving cert to appear and /readyz to answer 200; returns the cert PEM. */
    private static String awaitApiserverReady(Path dir, int apiPort, String token, ProcessHandle api,
                                              Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Path crt = dir.resolve("certs").resolve("apiserver.crt");
        Waits.poll("kube-apiserver serving certificate " + crt, timeout, () -> {
            if (!api.isAlive()) {
                throw new IllegalStateException("kube-apiserver exited");
            }
            return Files.isRegularFile(crt) && sizeOf(crt) > 0;
        });
        String ca = awaitStable(crt);
        HttpClient http = HttpClient.newBuilder().sslContext(ControlPlanePki.trusting(ca)).connectTimeout(Duration.ofSeconds(2))
                .build();
        HttpRequest req = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + apiPort + "/readyz"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)).GET().build();
        String[] lastBody = {""};
        try {
            Waits.poll("kube-apiserver /readyz on port " + apiPort, remaining(deadline), () -> {
                if (!api.isAlive()) {
                    throw new IllegalStateException("kube-apiserver exited");
                }
                try {
                    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                    lastBody[0] = r.statusCode() + " " + r.body();
                    return r.statusCode() == 200;
                } catch (IOException e) {
                    lastBody[0] = e.toString();
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            });
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + " (last /readyz answer: " + lastBody[0] + ")", e);
        }
        return ca;
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Reads a file the apiserver may still be writing until it parses as certificates. */
    private static String awaitStable(Path crt) throws IOException {
        IOException lastError = null;
        for (int i = 0; i < 50; i++) {
            String pem = Files.readString(crt, StandardCharsets.US_ASCII);
            try {
                if (!ControlPlanePki.parseCerts(pem).isEmpty()) {
                    return pem;
                }
            } catch (GeneralSecurityException e) {
                lastError = new IOException("cannot parse " + crt, e);
            }
            Waits.sleep(100);
        }
        throw lastError != null ? lastError : new IOException("no certificate in " + crt);
    }

    /** A start attempt lost a race for a random port. */
    private static final class PortInUse extends IllegalStateException {
        PortInUse(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
