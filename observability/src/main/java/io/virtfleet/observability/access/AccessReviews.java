package io.virtfleet.observability.access;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.NonResourceAttributes;
import io.fabric8.kubernetes.api.model.authorization.v1.NonResourceAttributesBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributes;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Delegated authentication and authorization, as Kubernetes' own components do it for their secure ports: the
 * apiserver says who a bearer token belongs to (TokenReview) and whether that user may do what the request asks
 * (SubjectAccessReview, for a resource like {@code virtualmachines/console} or a non-resource URL like
 * {@code /metrics}). Both reviews only answer questions; the caller needs {@code create} on
 * {@code tokenreviews} and {@code subjectaccessreviews} (RBAC's {@code system:auth-delegator}).
 *
 * <p>{@link #cached} remembers answers for a while, as the apiserver's delegating authenticator and authorizer do
 * (kube-controller-manager: {@code --authentication-token-webhook-cache-ttl},
 * {@code --authorization-webhook-cache-authorized-ttl}/{@code -unauthorized-ttl}), so that Prometheus scraping every
 * 15 s does not cost two apiserver requests per scrape. Tokens are kept only as their SHA-256. {@link #uncached}
 * asks every time: for the console, where a revoked token must stop the next session at once.
 */
public final class AccessReviews {
    /** How long answers are remembered; zero: not at all. */
    public record Ttl(Duration authenticated, Duration unauthenticated, Duration allowed, Duration denied) {
        /** Always ask. */
        public static final Ttl NONE = new Ttl(Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO);
        /**
         * For scrapes: a good token for 2 minutes (the apiserver's own webhook token cache default), a refused one
         * for 10 s; an allowed request for 2 minutes, a denied one for 10 s (so a newly granted role works soon).
         */
        public static final Ttl SCRAPES = new Ttl(Duration.ofMinutes(2), Duration.ofSeconds(10),
                Duration.ofMinutes(2), Duration.ofSeconds(10));
    }

    /** A SubjectAccessReview's answer: {@code reason} is the authorizer's, possibly empty. */
    public record Decision(boolean allowed, String reason) {
    }

    /** At most this many answers of each kind are kept (one per token or user and request, in practice a few). */
    static final int MAX_ENTRIES = 4096;

    private record Entry<T>(T value, long expiresNanos) {
    }

    private final KubernetesClient client;
    private final Ttl ttl;
    private final LongSupplier nanoTime;
    private final Map<String, Entry<UserInfo>> tokens = new ConcurrentHashMap<>();
    private final Map<String, Entry<Decision>> decisions = new ConcurrentHashMap<>();

    AccessReviews(KubernetesClient client, Ttl ttl, LongSupplier nanoTime) {
        this.client = client;
        this.ttl = ttl;
        this.nanoTime = nanoTime;
    }

    public static AccessReviews uncached(KubernetesClient client) {
        return new AccessReviews(client, Ttl.NONE, System::nanoTime);
    }

    public static AccessReviews cached(KubernetesClient client, Ttl ttl) {
        return new AccessReviews(client, ttl, System::nanoTime);
    }

    /** A user nobody is: what a refused token is cached as. */
    private static final UserInfo NOBODY = new UserInfo();

    /**
     * The user {@code token} belongs to, or null when the apiserver does not accept it (invalid, expired, revoked).
     *
     * @throws KubernetesClientException when the apiserver cannot be asked
     */
    public UserInfo authenticate(String token) {
        String key = sha256(token);
        long now = nanoTime.getAsLong();
        Entry<UserInfo> hit = tokens.get(key);
        if (hit != null && now - hit.expiresNanos() < 0) {
            return hit.value() == NOBODY ? null : hit.value();
        }
        TokenReview review = client.resource(new TokenReviewBuilder().withNewSpec().withToken(token).endSpec()
                .build()).create();
        UserInfo user = review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAuthenticated())
                ? review.getStatus().getUser() : null;
        remember(tokens, key, user == null ? NOBODY : user, user == null ? ttl.unauthenticated() : ttl.authenticated(),
                now);
        return user;
    }

    /** May {@code user} do what {@code resource} describes (group, resource, subresource, verb, namespace, name)? */
    public Decision authorize(UserInfo user, ResourceAttributes resource) {
        return review(user, resource, null);
    }

    /** May {@code user} {@code verb} the non-resource URL {@code path} (e.g. get {@code /metrics})? */
    public Decision authorize(UserInfo user, String verb, String path) {
        return review(user, null, new NonResourceAttributesBuilder().withPath(path).withVerb(verb).build());
    }

    private Decision review(UserInfo user, ResourceAttributes resource, NonResourceAttributes nonResource) {
        Map<String, List<String>> extra = user.getExtra() == null ? null : new TreeMap<>(user.getExtra());
        SubjectAccessReviewSpec spec = new SubjectAccessReviewBuilder().withNewSpec()
                .withUser(user.getUsername()).withGroups(user.getGroups()).withUid(user.getUid())
                .withExtra(extra == null ? null : new HashMap<>(extra))
                .withResourceAttributes(resource).withNonResourceAttributes(nonResource).endSpec().build().getSpec();
        String key = sha256(client.getKubernetesSerialization().asJson(spec));
        long now = nanoTime.getAsLong();
        Entry<Decision> hit = decisions.get(key);
        if (hit != null && now - hit.expiresNanos() < 0) {
            return hit.value();
        }
        SubjectAccessReview answer = client.resource(new SubjectAccessReviewBuilder().withSpec(spec).build()).create();
        boolean allowed = answer.getStatus() != null && Boolean.TRUE.equals(answer.getStatus().getAllowed());
        String reason = answer.getStatus() == null || answer.getStatus().getReason() == null ? ""
                : answer.getStatus().getReason();
        Decision d = new Decision(allowed, reason);
        remember(decisions, key, d, allowed ? ttl.allowed() : ttl.denied(), now);
        return d;
    }

    private static <T> void remember(Map<String, Entry<T>> cache, String key, T value, Duration ttl, long now) {
        if (ttl.isZero() || ttl.isNegative()) {
            return;
        }
        if (cache.size() >= MAX_ENTRIES) {
            cache.values().removeIf(e -> now - e.expiresNanos() >= 0);
            if (cache.size() >= MAX_ENTRIES) {
                cache.clear(); // many live entries: a flood of distinct tokens; asking again is the safe side
            }
        }
        cache.put(key, new Entry<>(value, now + ttl.toNanos()));
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
