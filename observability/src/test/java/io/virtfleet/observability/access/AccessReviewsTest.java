package io.virtfleet.observability.access;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The review cache against the real kube-apiserver, on a clock the test moves: answers hold for their TTL (a deleted
 * ServiceAccount's token keeps working, a new grant is not seen yet) and are asked again after it.
 */
class AccessReviewsTest {
    static final String RUN = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);

    @Test
    void answersAreCachedForTheirTtlAndAskedAgainAfterIt() {
        KubernetesClient client = EmbeddedControlPlane.shared().client();
        String sa = "cache-" + RUN;
        client.serviceAccounts().inNamespace("default").resource(new ServiceAccountBuilder().withNewMetadata()
                .withName(sa).endMetadata().build()).create();
        String token = client.serviceAccounts().inNamespace("default").withName(sa).tokenRequest(
                new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
                .getStatus().getToken();
        AtomicLong now = new AtomicLong(0);
        AccessReviews reviews = new AccessReviews(client, AccessReviews.Ttl.SCRAPES, now::get);
        AccessReviews fresh = AccessReviews.uncached(client);
        try {
            UserInfo user = reviews.authenticate(token);
            assertThat(user).isNotNull();
            assertThat(user.getUsername()).isEqualTo("system:serviceaccount:default:" + sa);

            // Denied, then granted: the denial holds for 10 s, then the grant is seen.
            assertThat(reviews.authorize(user, "get", "/metrics").allowed()).isFalse();
            client.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(sa)
                    .endMetadata().withRules(new PolicyRuleBuilder().withNonResourceURLs("/metrics")
                            .withVerbs("get").build()).build()).create();
            client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                    .withName(sa).endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", sa)
                    .addNewSubject().withKind("ServiceAccount").withName(sa).withNamespace("default").endSubject()
                    .build()).create();
            await().atMost(Duration.ofSeconds(30)).until(() -> fresh.authorize(user, "get", "/metrics").allowed());
            now.addAndGet(Duration.ofSeconds(9).toNanos());
            assertThat(reviews.authorize(user, "get", "/metrics").allowed()).as("denial cached 10 s").isFalse();
            now.addAndGet(Duration.ofSeconds(2).toNanos());
            assertThat(reviews.authorize(user, "get", "/metrics").allowed()).isTrue();
            assertThat(reviews.authorize(user, "get", "/other").allowed()).as("per path").isFalse();

            // The ServiceAccount deleted: its token is refused by the apiserver, but the cache keeps the user 2 min.
            client.serviceAccounts().inNamespace("default").withName(sa).delete();
            await().atMost(Duration.ofSeconds(30)).until(() -> fresh.authenticate(token) == null);
            now.addAndGet(Duration.ofSeconds(100).toNanos());
            assertThat(reviews.authenticate(token)).as("authentication cached 2 min").isNotNull();
            now.addAndGet(Duration.ofSeconds(21).toNanos());
            assertThat(reviews.authenticate(token)).isNull();
            // A refused token is asked again after 10 s only.
            now.addAndGet(Duration.ofSeconds(9).toNanos());
            assertThat(reviews.authenticate(token)).isNull();
        } finally {
            client.rbac().clusterRoleBindings().withName(sa).delete();
            client.rbac().clusterRoles().withName(sa).delete();
            client.serviceAccounts().inNamespace("default").withName(sa).delete();
        }
    }
}
