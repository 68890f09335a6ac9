package io.virtfleet.observability.access;

import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributes;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * One request's {@code Authorization: Bearer TOKEN} checked with {@link AccessReviews}, with the HTTP status and the
 * one-line reason a refused caller gets: 401 without a token or with one the apiserver does not accept, 403 when
 * the user may not, 503 when the apiserver cannot be asked (the caller retries; nothing is allowed meanwhile).
 * Tokens are never part of a message.
 */
public final class BearerAuth {
    /** {@code status} 200: allowed, as {@code user}; otherwise refused with {@code message}. */
    public record Outcome(int status, String message, UserInfo user) {
        public boolean allowed() {
            return status == 200;
        }
    }

    private final AccessReviews reviews;

    public BearerAuth(AccessReviews reviews) {
        this.reviews = reviews;
    }

    /** Authenticates {@code authorization} (the header's value, or null) and authorizes the user for a resource. */
    public Outcome check(String authorization, ResourceAttributes resource) {
        return check(authorization, resource, null, null);
    }

    /** Authenticates {@code authorization} and authorizes {@code verb} on the non-resource URL {@code path}. */
    public Outcome check(String authorization, String verb, String path) {
        return check(authorization, null, verb, path);
    }

    private Outcome check(String authorization, ResourceAttributes resource, String verb, String path) {
        Outcome who = authenticate(authorization);
        return !who.allowed() ? who : resource != null ? authorize(who.user(), resource)
                : authorize(who.user(), verb, path);
    }

    /** Only who the token belongs to: 200 with the user, or 401/503 (for servers that look at the path next). */
    public Outcome authenticate(String authorization) {
        String auth = authorization == null ? "" : authorization.strip();
        if (!auth.regionMatches(true, 0, "Bearer ", 0, 7) || auth.substring(7).isBlank()) {
            return new Outcome(401, "a bearer token is required (Authorization: Bearer ...)", null);
        }
        UserInfo user;
        try {
            user = reviews.authenticate(auth.substring(7).strip());
        } catch (KubernetesClientException e) {
            return new Outcome(503, "cannot review the token with the apiserver: " + oneLine(e.getMessage()), null);
        }
        if (user == null) {
            return new Outcome(401, "the token was not accepted by the apiserver (invalid, expired or revoked)",
                    null);
        }
        return new Outcome(200, "", user);
    }

    /** May the authenticated {@code user} do what {@code resource} describes: 200, 403 or 503. */
    public Outcome authorize(UserInfo user, ResourceAttributes resource) {
        return authorize(user, resource, null, null);
    }

    /** May the authenticated {@code user} {@code verb} the non-resource URL {@code path}: 200, 403 or 503. */
    public Outcome authorize(UserInfo user, String verb, String path) {
        return authorize(user, null, verb, path);
    }

    private Outcome authorize(UserInfo user, ResourceAttributes resource, String verb, String path) {
        AccessReviews.Decision d;
        try {
            d = resource != null ? reviews.authorize(user, resource) : reviews.authorize(user, verb, path);
        } catch (KubernetesClientException e) {
            return new Outcome(503, "cannot review access with the apiserver: " + oneLine(e.getMessage()), user);
        }
        if (d.allowed()) {
            return new Outcome(200, "", user);
        }
        // The apiserver's own wording for a refusal ("User \"jane\" cannot get path \"/metrics\"").
        String what = resource != null ? resource.getVerb() + " " + resource.getResource()
                + (resource.getSubresource() == null || resource.getSubresource().isEmpty() ? ""
                : "/" + resource.getSubresource()) + " in API group \"" + resource.getGroup() + "\""
                + (resource.getNamespace() == null ? "" : " in the namespace \"" + resource.getNamespace() + "\"")
                : verb + " path \"" + path + "\"";
        return new Outcome(403, "User \"" + user.getUsername() + "\" cannot " + what
                + (d.reason().isBlank() ? "" : ": " + d.reason()), user);
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().lines().findFirst().orElse("");
    }
}
