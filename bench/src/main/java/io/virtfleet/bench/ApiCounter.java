package io.virtfleet.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counting API requests two ways, keyed {@code VERB resource[/subresource]}: the kube-apiserver's own
 * {@code apiserver_request_total} (everything every client sent), and a client-side interceptor on the bench's own
 * clients. The operator's requests are the difference.
 */
public final class ApiCounter implements Interceptor {
    private static final Pattern METRIC = Pattern.compile("^apiserver_request_total\\{([^}]*)\\}\\s+([0-9.e+]+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    /** The apiserver's request counters now (needs a client allowed to GET /metrics: the admin's). */
    public static Map<String, Long> scrapeApiserver(KubernetesClient admin) {
        Map<String, Long> out = new TreeMap<>();
        String text = admin.raw("/metrics");
        if (text == null) {
            return out;
        }
        for (String line : text.split("\n")) {
            Matcher m = METRIC.matcher(line.trim());
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            Matcher l = LABEL.matcher(m.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            String resource = labels.getOrDefault("resource", "");
            if (resource.isEmpty()) {
                continue; // non-resource URLs (/metrics, /healthz, discovery)
            }
            String sub = labels.getOrDefault("subresource", "");
            String key = labels.getOrDefault("verb", "?") + " " + resource + (sub.isEmpty() ? "" : "/" + sub);
            out.merge(key, (long) Double.parseDouble(m.group(2)), Long::sum);
        }
        return out;
    }

    /** after − before, keys with no change left out. */
    public static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new TreeMap<>();
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d != 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    /** a − b per key (keys of a), never below zero. */
    public static Map<String, Long> minus(Map<String, Long> a, Map<String, Long> b) {
        Map<String, Long> out = new TreeMap<>();
        a.forEach((k, v) -> {
            long d = Math.max(0, v - b.getOrDefault(k, 0L));
            if (d != 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    /** Only the keys whose resource is one of {@code resources}. */
    public static Map<String, Long> only(Map<String, Long> m, List<String> resources) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> {
            String r = k.substring(k.indexOf(' ') + 1);
            int slash = r.indexOf('/');
            if (resources.contains(slash < 0 ? r : r.substring(0, slash))) {
                out.put(k, v);
            }
        });
        return out;
    }

    public static long sum(Map<String, Long> m) {
        return m.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Writes only (no GET, LIST, WATCH). */
    public static long writes(Map<String, Long> m) {
        long n = 0;
        for (Map.Entry<String, Long> e : m.entrySet()) {
            String verb = e.getKey().substring(0, e.getKey().indexOf(' '));
            if (!List.of("GET", "LIST", "WATCH").contains(verb)) {
                n += e.getValue();
            }
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------ client-side counting

    @Override
    public void before(BasicBuilder builder, HttpRequest request, Interceptor.RequestTags tags) {
        counts.computeIfAbsent(key(request), k -> new AtomicLong()).incrementAndGet();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** {@code VERB resource[/subresource]} of a request URL, as the apiserver's metric labels it. */
    static String key(HttpRequest request) {
        String path = request.uri().getPath();
        String query = request.uri().getQuery() == null ? "" : request.uri().getQuery();
        String[] p = path.split("/");
        // /api/v1/... or /apis/GROUP/VERSION/...
        int i = path.startsWith("/apis/") ? 4 : path.startsWith("/api/") ? 3 : p.length;
        String resource = "";
        String name = null;
        String sub = "";
        if (i < p.length) {
            if ("namespaces".equals(p[i]) && i + 2 < p.length) {
                i += 2;
            }
            resource = p[i];
            if (i + 1 < p.length) {
                name = p[i + 1];
            }
            if (i + 2 < p.length) {
                sub = p[i + 2];
            }
        }
        String method = request.method();
        String contentType = request instanceof io.fabric8.kubernetes.client.http.StandardHttpRequest std
                ? std.getContentType() : request.header("Content-Type");
        String verb = switch (method) {
            case "GET" -> name != null ? "GET" : query.contains("watch=true") ? "WATCH" : "LIST";
            case "PATCH" -> contentType != null && contentType.contains("apply-patch") ? "APPLY" : "PATCH";
            case "DELETE" -> name != null ? "DELETE" : "DELETECOLLECTION";
            case "POST" -> "POST";
            default -> method;
        };
        return verb + " " + resource + (sub.isEmpty() ? "" : "/" + sub);
    }
}
