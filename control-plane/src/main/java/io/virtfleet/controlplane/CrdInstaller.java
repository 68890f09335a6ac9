package io.virtfleet.controlplane;

import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionCondition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Applies CRD manifests (server-side apply) and waits until the apiserver serves them. */
final class CrdInstaller {
    private static final Logger LOG = LoggerFactory.getLogger(CrdInstaller.class);

    private final KubernetesClient c;

    CrdInstaller(KubernetesClient client) {
        this.c = client;
    }


    /** Applies the CRDs in the given YAML files and waits until each is Established and served. */
    List<CustomResourceDefinition> install(List<Path> files, Duration timeout) {
        List<CustomResourceDefinition> applied = new ArrayList<>();
        for (Path file : files) {
            List<HasMetadata> items;
            try (InputStream in = Files.newInputStream(file)) {
                items = c.load(in).items();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
            for (HasMetadata item : items) {
                if (!(item instanceof CustomResourceDefinition crd)) {
                    throw new IllegalArgumentException(file + " holds a " + item.getKind()
                            + ", expected only apiextensions.k8s.io/v1 CustomResourceDefinitions");
                }
                crd.getMetadata().setResourceVersion(null);
                crd.getMetadata().setManagedFields(null);
                applied.add(c.apiextensions().v1().customResourceDefinitions().resource(crd)
                        .fieldManager("virtfleet-control-plane").forceConflicts().serverSideApply());
                LOG.debug("applied CRD {} from {}", crd.getMetadata().getName(), file);
            }
        }
        for (CustomResourceDefinition crd : applied) {
            awaitServed(crd, timeout);
        }
        LOG.info("installed {} CRDs: {}", applied.size(),
                applied.stream().map(x -> x.getMetadata().getName()).toList());
        return applied;
    }

    /** Waits until the CRD is Established and its served versions appear in API discovery. */
    void awaitServed(CustomResourceDefinition crd, Duration timeout) {
        String name = crd.getMetadata().getName();
        Waits.poll("CRD " + name + " Established", timeout, () -> {
            CustomResourceDefinition live = c.apiextensions().v1().customResourceDefinitions().withName(name).get();
            if (live == null || live.getStatus() == null || live.getStatus().getConditions() == null) {
                return false;
            }
            for (CustomResourceDefinitionCondition cond : live.getStatus().getConditions()) {
                if ("Established".equals(cond.getType()) && "True".equals(cond.getStatus())) {
                    return true;
                }
            }
            return false;
        });
        String group = crd.getSpec().getGroup();
        String plural = crd.getSpec().getNames().getPlural();
        for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
            if (!Boolean.TRUE.equals(v.getServed())) {
                continue;
            }
            String gv = group + "/" + v.getName();
            Waits.poll(plural + " in discovery of " + gv, timeout, () -> {
                try {
                    APIResourceList list = c.getApiResources(gv);
                    return list != null && list.getResources().stream().map(APIResource::getName)
                            .anyMatch(plural::equals);
                } catch (KubernetesClientException e) {
                    return false;
                }
            });
        }
    }
}
