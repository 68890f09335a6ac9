package io.virtfleet.agent.console;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The console endpoint's TLS key and certificate: a fresh self-signed EC P-256 pair per agent start, made by the
 * JDK's keytool (the JDK has no public API to issue a certificate), kept in memory only. Clients trust exactly this
 * certificate, which the agent publishes on its Host object: the apiserver, which the user already trusts, vouches
 * for it, so no CA needs distributing.
 */
final class TlsIdentity {
    final SSLContext context;
    final String certificatePem;

    private TlsIdentity(SSLContext context, String certificatePem) {
        this.context = context;
        this.certificatePem = certificatePem;
    }

    static TlsIdentity selfSigned(String host, List<String> sans) throws IOException, GeneralSecurityException {
        byte[] pw = new byte[18];
        new SecureRandom().nextBytes(pw);
        char[] password = HexFormat.of().formatHex(pw).toCharArray();
        Path dir = Files.createTempDirectory("virtfleet-console-tls");
        Path store = dir.resolve("console.p12");
        try {
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            String san = String.join(",", sans);
            ProcessBuilder pb = new ProcessBuilder(keytool, "-genkeypair", "-alias", "console", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-validity", "825", "-dname", "CN=virtfleet-agent-console",
                    "-ext", "SAN=" + san, "-keystore", store.toString(), "-storetype", "PKCS12",
                    "-storepass:env", "VF_PW", "-keypass:env", "VF_PW");
            pb.environment().put("VF_PW", new String(password));
            Files.deleteIfExists(store);
            Process gen = pb.redirectErrorStream(true).start();
            String out = new String(gen.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!gen.waitFor(60, TimeUnit.SECONDS) || gen.exitValue() != 0) {
                throw new IOException("keytool could not make the console's certificate: " + out.strip());
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                ks.load(in, password);
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), null, new SecureRandom());
            Certificate cert = ks.getCertificate("console");
            String pem = "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
            return new TlsIdentity(ctx, pem);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while making the console's certificate", e);
        } finally {
            Files.deleteIfExists(store);
            Files.deleteIfExists(dir);
        }
    }
}
