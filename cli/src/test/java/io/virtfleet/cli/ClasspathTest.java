package io.virtfleet.cli;

import io.fabric8.kubernetes.client.http.HttpClient;
import org.junit.jupiter.api.Test;

import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI's runtime classpath (the same the images and {@code virtfleet.jar} are built from) carries exactly one
 * fabric8 HTTP client. fabric8 finds its {@code HttpClient.Factory} through {@link ServiceLoader}; with two of the
 * same priority it logs "...one was chosen randomly" at every start and the process's behaviour (timeouts, HTTP/2,
 * proxy handling) depends on the draw.
 */
class ClasspathTest {
    @Test
    void exactlyOneFabric8HttpClientTheJdkOne() {
        assertThat(ServiceLoader.load(HttpClient.Factory.class).stream().map(p -> p.type().getName()).toList())
                .containsExactly("io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory");
    }
}
