package io.virtfleet.agent.provision;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Reads a cloud-init Secret for the seed as this host's identity ({@link HostIdentity}: the only identity the operator
 * grants the VM's Secrets to), by name in the VM's namespace (a get, never a list or watch: the agent holds no Secret
 * but the one it is writing into a seed, and only for as long as that takes). Messages name the Secret and the keys,
 * never a value.
 */
public final class KubernetesSecrets implements DomainFiles.SecretSource {
    private final HostIdentity identity;

    public KubernetesSecrets(HostIdentity identity) {
        this.identity = identity;
    }

    @Override
    public byte[] read(String namespace, String name, List<String> keys) throws DomainFiles.SecretException {
        Secret s;
        try {
            s = identity.client().secrets().inNamespace(namespace).withName(name).get();
        } catch (KubernetesClientException e) {
            throw new DomainFiles.SecretException("cannot read Secret " + namespace + "/" + name + " as "
                    + identity.serviceAccount() + " (HTTP " + e.getCode() + (e.getCode() == 403
                    ? ": this host's agent may not read it; the operator grants a VM's Secrets to the agent of its "
                    + "host only" : "") + ")");
        }
        if (s == null) {
            throw new DomainFiles.SecretException("Secret " + namespace + "/" + name + " does not exist");
        }
        for (String k : keys) {
            if (s.getData() != null && s.getData().get(k) != null) {
                return Base64.getDecoder().decode(s.getData().get(k));
            }
            if (s.getStringData() != null && s.getStringData().get(k) != null) {
                return s.getStringData().get(k).getBytes(StandardCharsets.UTF_8);
            }
        }
        throw new DomainFiles.SecretException("Secret " + namespace + "/" + name + " has none of the keys " + keys);
    }

    /** Closes the host identity's client (its HTTP connections and threads) with the agent. */
    @Override
    public void close() {
        identity.close();
    }
}
