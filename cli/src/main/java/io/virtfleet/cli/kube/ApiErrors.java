package io.virtfleet.cli.kube;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;

/**
 * Turns what the apiserver (or the way to it) answered into one line for a person. The apiserver's own message is kept
 * verbatim for 4xx answers: for a 403 it names the user, verb, resource and namespace RBAC refused, which is exactly
 * what the person (or their admin) needs.
 */
public final class ApiErrors {
    private ApiErrors() {
    }

    /** A {@link Refusal} for {@code e}: exit 1 when the apiserver refused, 2 when it could not be asked. */
    public static Refusal refusal(String doing, KubernetesClientException e) {
        int code = e.getCode();
        String message = message(e);
        if (code >= 400 && code < 500) {
            String prefix = switch (code) {
                case 401 -> "unauthorized (the kubeconfig's credentials were not accepted): ";
                case 403 -> "forbidden: ";
                default -> "";
            };
            return new Refusal(Refusal.REFUSED, doing + ": " + prefix + message);
        }
        Throwable root = rootCause(e);
        if (root instanceof ConnectException || root instanceof UnknownHostException
                || (root instanceof IOException && code <= 0)) {
            return new Refusal(Refusal.FAILURE, doing + ": cannot reach the apiserver: " + oneLine(root.toString()));
        }
        return new Refusal(Refusal.FAILURE, doing + ": " + (code > 0 ? "HTTP " + code + ": " : "") + message);
    }

    /** The apiserver's Status message when there is one, else the exception's first line. */
    static String message(KubernetesClientException e) {
        Status status = e.getStatus();
        if (status != null && status.getMessage() != null && !status.getMessage().isBlank()) {
            return oneLine(status.getMessage());
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            Throwable root = rootCause(e);
            m = root == e ? e.getClass().getSimpleName() : root.toString();
        }
        return oneLine(m);
    }

    static Throwable rootCause(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c;
    }

    static String oneLine(String s) {
        String first = s.strip().lines().findFirst().orElse("");
        return first.length() > 400 ? first.substring(0, 400) + "..." : first;
    }
}
