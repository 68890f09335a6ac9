package io.virtfleet.agent.provision;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.ApiGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * This host's identity for cloud-init Secrets: the ServiceAccount {@code virtfleet-system/virtfleet-agent-host-<host>}
 * (created if missing), used through short-lived tokens from the TokenRequest API. The operator grants a VM's Secrets
 * to its host's identity only; the policy virtfleet-agent-host-identity lets an agent create and mint tokens only for
 * the identity of the node its own pod-bound token names (deploy/README.md "cloud-init Secrets"). A token lives
 * {@link #LIFETIME} and is renewed after half of it; tokens are held in memory only, never logged.
 */
public final class HostIdentity implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HostIdentity.class);
    static final Duration LIFETIME = Duration.ofHours(1);

    private final KubernetesClient agent;
    private final String serviceAccount;
    private final Clock clock;
    private KubernetesClient current;
    private Instant renewAt = Instant.MIN;

    public HostIdentity(KubernetesClient agent, String host, Clock clock) {
        this.agent = agent;
        this.serviceAccount = ApiGroup.hostServiceAccount(host);
        this.clock = clock;
    }

    public String serviceAccount() {
        return serviceAccount;
    }

    /** A client acting as this host's identity (a fresh token when the last one is half-way through its life). */
    public synchronized KubernetesClient client() {
        Instant now = clock.instant();
        if (current != null && now.isBefore(renewAt)) {
            return current;
        }
        var accounts = agent.serviceAccounts().inNamespace(ApiGroup.SYSTEM_NAMESPACE);
        if (accounts.withName(serviceAccount).get() == null) {
            try {
                accounts.resource(new ServiceAccountBuilder().withNewMetadata().withName(serviceAccount)
                        .addToLabels("app.kubernetes.io/component", "agent").endMetadata().build()).create();
                LOG.info("created ServiceAccount {}/{}, this host's identity for cloud-init Secrets",
                        ApiGroup.SYSTEM_NAMESPACE, serviceAccount);
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
            }
        }
        TokenRequest req = new TokenRequestBuilder().withNewSpec().withExpirationSeconds(LIFETIME.toSeconds())
                .endSpec().build();
        String token = accounts.withName(serviceAccount).tokenRequest(req).getStatus().getToken();
        // Only the endpoint and its CA from the agent's config: none of its credentials, and no kubeconfig file a
        // 401 would make fabric8 reload them from.
        Config base = agent.getConfiguration();
        Config c = new ConfigBuilder(Config.empty()).withMasterUrl(base.getMasterUrl())
                .withCaCertData(base.getCaCertData()).withCaCertFile(base.getCaCertFile())
                .withTrustCerts(base.isTrustCerts()).withDisableHostnameVerification(base.isDisableHostnameVerification())
                .withHttp2Disable(base.isHttp2Disable()).withRequestTimeout(base.getRequestTimeout())
                .withConnectionTimeout(base.getConnectionTimeout()).withOauthToken(token).build();
        KubernetesClient fresh = new KubernetesClientBuilder().withConfig(c).build();
        if (current != null) {
            current.close();
        }
        current = fresh;
        renewAt = now.plus(LIFETIME.dividedBy(2));
        return current;
    }

    @Override
    public synchronized void close() {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
