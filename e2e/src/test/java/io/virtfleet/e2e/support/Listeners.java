package io.virtfleet.e2e.support;

import io.virtfleet.observability.HttpsProbe;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The TCP listeners of processes as {@code ss -ltnp} shows them, and the check that none of them is reachable off
 * loopback without TLS and authentication: a listener on loopback passes; any other must refuse a plain-HTTP request
 * (no HTTP answer), complete a TLS handshake, and refuse {@code GET /metrics} without a token and with a forged one
 * (401), like every port of the operator and the agent (health, metrics, console).
 */
public final class Listeners {
    private Listeners() {
    }

    /** One {@code ss -ltnpH} line: the local address (without the port), the port, and the line itself. */
    public record Listener(String address, int port, String line) {
        public boolean loopback() {
            return address.equals("127.0.0.1") || address.equals("[::1]") || address.equals("[::ffff:127.0.0.1]")
                    || address.startsWith("127.");
        }

        public boolean wildcard() {
            return address.equals("*") || address.equals("0.0.0.0") || address.equals("[::]");
        }

        /** Whether process {@code pid} holds it. */
        public boolean of(long pid) {
            return line.contains("pid=" + pid + ",");
        }
    }

    /** The listening TCP sockets of this network namespace (or, with {@code netnsOfPid} > 0, of that process's). */
    public static List<Listener> all(long netnsOfPid) {
        List<String> cmd = new ArrayList<>();
        if (netnsOfPid > 0) {
            cmd.addAll(List.of("nsenter", "-t", Long.toString(netnsOfPid), "-n"));
        }
        cmd.addAll(List.of("ss", "-ltnpH"));
        String out;
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as(cmd + ": " + out).isTrue();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        List<Listener> ls = new ArrayList<>();
        for (String line : out.lines().filter(l -> !l.isBlank()).toList()) {
            String local = line.strip().split("\\s+")[3];
            int colon = local.lastIndexOf(':');
            String address = local.substring(0, colon).replaceFirst("%.*$", "");
            ls.add(new Listener(address, Integer.parseInt(local.substring(colon + 1)), line));
        }
        return ls;
    }

    /**
     * Asserts every listener is on loopback or secured (see the class comment). A wildcard listener is probed at
     * {@code wildcardAt}; a listener on a specific address only when {@code mayContact} allows that address (the
     * tests send traffic only to loopback and to network namespaces they created), else the check fails.
     */
    public static void assertLoopbackOrSecured(List<Listener> listeners, String wildcardAt,
                                               Predicate<String> mayContact) {
        for (Listener l : listeners) {
            if (l.loopback()) {
                continue;
            }
            String target = l.wildcard() ? wildcardAt : l.address().replaceAll("^\\[|]$", "");
            if (!l.wildcard() && !mayContact.test(target)) {
                fail("listener " + l.line() + " is off loopback at an address this test may not contact");
            }
            assertSecured(target, l);
        }
    }

    private static void assertSecured(String host, Listener l) {
        String what = "listener " + l.line() + " (probed at " + host + ":" + l.port() + ")";
        assertThat(HttpsProbe.plainHttpAnswer(host, l.port())).as(what + ": plain HTTP gets no HTTP answer")
                .doesNotStartWith("HTTP");
        try {
            HttpResponse<String> none = HttpsProbe.get(host, l.port(), "/metrics", null);
            assertThat(none.statusCode()).as(what + ": GET /metrics over TLS without a token: " + none.body())
                    .isEqualTo(401);
            assertThat(none.body()).as(what).doesNotContain("# TYPE");
            HttpResponse<String> forged = HttpsProbe.get(host, l.port(), "/metrics", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA");
            assertThat(forged.statusCode()).as(what + ": GET /metrics with a forged token: " + forged.body())
                    .isEqualTo(401);
        } catch (IOException e) {
            fail(what + ": no TLS handshake / HTTPS answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
