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
import java.net.InetAddress;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TLS server identity (key + certificate chain) kept in memory: either a fresh self-signed EC P-256 pair made at
 * start-up (the JDK has no public API to issue a certificate, so the DER is written here), as kube-controller-manager and
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
     * {@code ip:127.0.0.1}), valid from an hour ago for 825 days. Made in this process (RFC 5280's DER written here
     * and signed with the JDK's ECDSA): a keytool child JVM took half a minute on a loaded machine, on every start.
     */
    public static TlsIdentity selfSigned(String commonName, List<String> sans) throws IOException,
            GeneralSecurityException {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = kpg.generateKeyPair();
        byte[] serial = new byte[16];
        new SecureRandom().nextBytes(serial);
        serial[0] = (byte) ((serial[0] & 0x7f) | 0x01); // positive, no leading zero
        byte[] name = sequence(tlv(0x31, sequence(tlv(0x06, HexFormat.of().parseHex("550403")),
                tlv(0x0c, commonName.getBytes(StandardCharsets.UTF_8)))));
        Instant now = Instant.now();
        byte[] validity = sequence(utcTime(now.minus(Duration.ofHours(1))), utcTime(now.plus(Duration.ofDays(825))));
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        for (String san : sans) {
            if (san.startsWith("dns:")) {
                names.writeBytes(tlv(0x82, san.substring(4).getBytes(StandardCharsets.US_ASCII)));
            } else if (san.startsWith("ip:")) {
                names.writeBytes(tlv(0x87, InetAddress.getByName(san.substring(3)).getAddress()));
            } else {
                throw new IllegalArgumentException("subject alternative name " + san + ": expected dns: or ip:");
            }
        }
        byte[] sanExtension = sequence(tlv(0x06, HexFormat.of().parseHex("551d11")),
                tlv(0x04, sequence(names.toByteArray())));
        byte[] tbs = sequence(tlv(0xa0, new byte[] {0x02, 0x01, 0x02}), tlv(0x02, serial), ECDSA_SHA256, name,
                validity, name, pair.getPublic().getEncoded(), tlv(0xa3, sequence(sanExtension)));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(pair.getPrivate());
        signer.update(tbs);
        byte[] sig = signer.sign();
        byte[] bits = new byte[sig.length + 1];
        System.arraycopy(sig, 0, bits, 1, sig.length);
        byte[] der = sequence(tbs, ECDSA_SHA256, tlv(0x03, bits));
        Certificate cert = CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        char[] password = "in-memory".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, password);
        ks.setKeyEntry("identity", pair.getPrivate(), password, new Certificate[] {cert});
        return of(ks, "identity", password);
    }

    /** AlgorithmIdentifier ecdsa-with-SHA256 (RFC 5758), no parameters. */
    private static final byte[] ECDSA_SHA256 = HexFormat.of().parseHex("300a06082a8648ce3d040302");

    private static byte[] utcTime(Instant t) {
        return tlv(0x17, DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC).format(t)
                .getBytes(StandardCharsets.US_ASCII));
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
