package io.virtfleet.observability.serving;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TLS server identity (key + certificate chain) kept in memory: either a fresh self-signed EC P-256 pair made at
 * start-up by the JDK's keytool (the JDK has no public API to issue a certificate), as kube-controller-manager and
 * kube-scheduler make one when no {@code --tls-cert-file} is given, or the PEM files an operator provides
 * (cert-manager's {@code tls.crt}/{@code tls.key}: PKCS#8, PKCS#1 RSA or SEC1 EC keys).
 */
public final class TlsIdentity {
    public final SSLContext context;
    /** The leaf certificate, PEM. */
    public final String certificatePem;

    private TlsIdentity(SSLContext context, String certificatePem) {
        this.context = context;
        this.certificatePem = certificatePem;
    }

    /**
     * A self-signed certificate for {@code commonName} with these subject alternative names ({@code dns:localhost},
     * {@code ip:127.0.0.1}, keytool's syntax).
     */
    public static TlsIdentity selfSigned(String commonName, List<String> sans) throws IOException,
            GeneralSecurityException {
        byte[] pw = new byte[18];
        new SecureRandom().nextBytes(pw);
        char[] password = HexFormat.of().formatHex(pw).toCharArray();
        Path dir = Files.createTempDirectory("virtfleet-tls");
        Path store = dir.resolve("identity.p12");
        try {
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            String san = String.join(",", sans);
            ProcessBuilder pb = new ProcessBuilder(keytool, "-genkeypair", "-alias", "identity", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-validity", "825", "-dname", "CN=" + commonName,
                    "-ext", "SAN=" + san, "-keystore", store.toString(), "-storetype", "PKCS12",
                    "-storepass:env", "VF_PW", "-keypass:env", "VF_PW");
            pb.environment().put("VF_PW", new String(password));
            Files.deleteIfExists(store);
            Process gen = pb.redirectErrorStream(true).start();
            String out = new String(gen.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!gen.waitFor(60, TimeUnit.SECONDS) || gen.exitValue() != 0) {
                throw new IOException("keytool could not make a self-signed certificate: " + out.strip());
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                ks.load(in, password);
            }
            return of(ks, "identity", password);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while making a self-signed certificate", e);
        } finally {
            Files.deleteIfExists(store);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The certificate chain (leaf first) of {@code certFile} and the unencrypted private key of {@code keyFile}, both
     * PEM. A key that does not belong to the leaf certificate is refused here rather than at the first handshake.
     */
    public static TlsIdentity fromPemFiles(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
        List<? extends Certificate> chain;
        try (InputStream in = Files.newInputStream(certFile)) {
            chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
        } catch (java.security.cert.CertificateException e) {
            throw new GeneralSecurityException(certFile + ": not a PEM certificate: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new GeneralSecurityException(certFile + ": no certificate in it");
        }
        PrivateKey key = privateKey(Files.readString(keyFile, StandardCharsets.US_ASCII), keyFile);
        X509Certificate leaf = (X509Certificate) chain.get(0);
        if (!belongsTo(key, leaf)) {
            throw new GeneralSecurityException("the private key in " + keyFile + " does not belong to the "
                    + "certificate in " + certFile);
        }
        char[] password = "in-memory".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, password);
        ks.setKeyEntry("identity", key, password, chain.toArray(new Certificate[0]));
        return of(ks, "identity", password);
    }

    private static TlsIdentity of(KeyStore ks, String alias, char[] password) throws GeneralSecurityException {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, new SecureRandom());
        Certificate cert = ks.getCertificate(alias);
        String pem = "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
        return new TlsIdentity(ctx, pem);
    }

    private static final Pattern PEM_KEY = Pattern.compile(
            "-----BEGIN ([A-Z ]*)PRIVATE KEY-----\\s*([A-Za-z0-9+/=\\s]+?)-----END \\1PRIVATE KEY-----");
    /** rsaEncryption (RFC 8017) and id-ecPublicKey (RFC 5480), DER-encoded OBJECT IDENTIFIERs. */
    private static final byte[] RSA_OID = HexFormat.of().parseHex("06092a864886f70d010101");
    private static final byte[] EC_OID = HexFormat.of().parseHex("06072a8648ce3d0201");

    static PrivateKey privateKey(String pem, Path file) throws GeneralSecurityException {
        Matcher m = PEM_KEY.matcher(pem);
        if (!m.find()) {
            throw new GeneralSecurityException(file + ": no PEM private key in it (-----BEGIN PRIVATE KEY-----)");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(2));
        String type = m.group(1).strip();
        return switch (type) {
            case "" -> pkcs8(der, file);
            // PKCS#1: wrapped into PKCS#8's PrivateKeyInfo, which is all the JDK's KeyFactory reads.
            case "RSA" -> pkcs8(sequence(integerZero(), sequence(RSA_OID, new byte[] {0x05, 0x00}),
                    tlv(0x04, der)), file);
            // SEC1 (RFC 5915): the curve's OID is its [0] parameters field, which PKCS#8 wants in the algorithm.
            case "EC" -> pkcs8(sequence(integerZero(), sequence(EC_OID, sec1Curve(der, file)), tlv(0x04, der)), file);
            case "ENCRYPTED" -> throw new GeneralSecurityException(file + ": an encrypted private key; give an "
                    + "unencrypted one (openssl pkcs8 -topk8 -nocrypt)");
            default -> throw new GeneralSecurityException(file + ": unsupported key type \"" + type
                    + " PRIVATE KEY\" (PKCS#8, RSA or EC)");
        };
    }

    private static PrivateKey pkcs8(byte[] der, Path file) throws GeneralSecurityException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String alg : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // next algorithm
            }
        }
        throw new GeneralSecurityException(file + ": not an RSA, EC or Ed25519 private key");
    }

    private static boolean belongsTo(PrivateKey key, X509Certificate cert) throws GeneralSecurityException {
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm();
        };
        byte[] probe = "virtfleet".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            return v.verify(sig);
        } catch (java.security.InvalidKeyException e) {
            return false; // e.g. an EC key with an RSA certificate
        }
    }

    /** The namedCurve OID of an ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING, [0] OID, [1] BIT STRING }. */
    private static byte[] sec1Curve(byte[] der, Path file) throws GeneralSecurityException {
        try {
            int[] seq = header(der, 0);
            int p = seq[0];
            int end = seq[0] + seq[1];
            while (p < end) {
                int[] h = header(der, p);
                if ((der[p] & 0xff) == 0xa0) {
                    return java.util.Arrays.copyOfRange(der, h[0], h[0] + h[1]);
                }
                p = h[0] + h[1];
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            // fall through: malformed
        }
        throw new GeneralSecurityException(file + ": an EC PRIVATE KEY without its curve (named curve parameters)");
    }

    /** {offset of the value, length of the value} of the DER element at {@code p}. */
    private static int[] header(byte[] der, int p) {
        int len = der[p + 1] & 0xff;
        int at = p + 2;
        if (len >= 0x80) {
            int n = len & 0x7f;
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (der[at++] & 0xff);
            }
        }
        return new int[] {at, len};
    }

    private static byte[] integerZero() {
        return new byte[] {0x02, 0x01, 0x00};
    }

    private static byte[] sequence(byte[]... parts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            body.writeBytes(p);
        }
        return tlv(0x30, body.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = value.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            byte[] len = java.math.BigInteger.valueOf(n).toByteArray();
            int skip = len[0] == 0 ? 1 : 0;
            out.write(0x80 | (len.length - skip));
            out.write(len, skip, len.length - skip);
        }
        out.writeBytes(value);
        return out.toByteArray();
    }

    /** For tests: the identity as a trust store holding only its leaf certificate. */
    public KeyStore trustStore() throws GeneralSecurityException, IOException {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("server", CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(certificatePem.getBytes(StandardCharsets.US_ASCII))));
        return ts;
    }
}
