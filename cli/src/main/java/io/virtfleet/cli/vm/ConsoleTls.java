package io.virtfleet.cli.vm;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;

/**
 * The TLS of the agent sessions ({@code virtfleet vm console}, vnc, port-forward): the agent's endpoint serves a
 * self-signed certificate it publishes on its Host (read through the apiserver, which the user already trusts), and
 * the client trusts exactly that certificate.
 */
public final class ConsoleTls {
    private ConsoleTls() {
    }

    /** TLS 1.3 that trusts exactly the certificate in {@code pem} (and nothing else). */
    public static SSLContext pinned(String pem) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        ks.setCertificateEntry("agent", CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
