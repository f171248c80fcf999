package dev.auditstream.outbound;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * A stream's own TLS client identity (mutual TLS): its key and certificate chain, and the private CA certificates it
 * trusts besides the JDK's default ones, all parsed from PEM with the JDK alone. {@code owner} names whose identity it
 * is (a stream), {@code fingerprint} what it is: {@link OutboundHttp} keeps one client per owner and builds it anew
 * when the fingerprint changes.
 */
public record ClientIdentity(String owner, String fingerprint, PrivateKey key, List<X509Certificate> chain,
                             List<X509Certificate> trusted) {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** The DER prefix that makes a PKCS#1 RSA key a PKCS#8 one (rsaEncryption, no parameters); its length is patched. */
    private static final byte[] RSA_PKCS8_HEADER = HexFormat.of().parseHex("020100300d06092a864886f70d0101010500");

    /** A PEM value this service cannot use, with what is wrong in words for the customer. */
    public static final class PemException extends Exception {
        public PemException(String message) {
            super(message);
        }
    }

    public static ClientIdentity of(String owner, String certificatePem, String keyPem, String caPem)
            throws PemException {
        List<X509Certificate> chain = certificates(certificatePem);
        PrivateKey key = privateKey(keyPem);
        List<X509Certificate> trusted = caPem == null || caPem.isBlank() ? List.of() : certificates(caPem);
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (X509Certificate certificate : chain) {
                digest.update(certificate.getEncoded());
            }
            digest.update(key.getEncoded());
            for (X509Certificate certificate : trusted) {
                digest.update(certificate.getEncoded());
            }
            return new ClientIdentity(owner, HexFormat.of().formatHex(digest.digest()), key, chain, trusted);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 of parsed certificates failed", e);
        }
    }

    /** The X.509 certificates of a PEM text, in order; at least one. */
    public static List<X509Certificate> certificates(String pem) throws PemException {
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (Block block : blocks(pem)) {
                if (!block.label().equals("CERTIFICATE")) {
                    throw new PemException("holds a " + block.label() + " block where only CERTIFICATE blocks belong");
                }
                certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der())));
            }
        } catch (GeneralSecurityException e) {
            throw new PemException("is not a readable X.509 certificate");
        }
        if (certificates.isEmpty()) {
            throw new PemException("holds no PEM CERTIFICATE block");
        }
        return certificates;
    }

    /** An unencrypted private key: PKCS#8 ({@code PRIVATE KEY}: RSA, EC, Ed25519) or PKCS#1 ({@code RSA PRIVATE KEY}). */
    public static PrivateKey privateKey(String pem) throws PemException {
        List<Block> blocks = blocks(pem);
        if (blocks.size() != 1) {
            throw new PemException("must hold exactly one PEM private key block");
        }
        Block block = blocks.get(0);
        byte[] pkcs8 = switch (block.label()) {
            case "PRIVATE KEY" -> block.der();
            case "RSA PRIVATE KEY" -> rsaPkcs8(block.der());
            case "ENCRYPTED PRIVATE KEY" -> throw new PemException(
                    "is encrypted; give it unencrypted (it is encrypted at rest here): openssl pkcs8 -topk8 -nocrypt");
            default -> throw new PemException("is a " + block.label() + " block; give a PKCS#8 PRIVATE KEY "
                    + "(openssl pkcs8 -topk8 -nocrypt converts other formats)");
        };
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
                // the next algorithm
            }
        }
        throw new PemException("is not a readable RSA, EC or EdDSA private key");
    }

    /** Whether the key is the one the certificate's public key belongs to: a signature by it verifies. */
    public static boolean matches(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm();
        };
        try {
            byte[] probe = "auditstream key check".getBytes(StandardCharsets.UTF_8);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** TLS that presents this identity and trusts the JDK's default CAs and the given ones. */
    public SSLContext sslContext() throws GeneralSecurityException {
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            char[] password = new char[0];
            keys.setKeyEntry("client", key, password, chain.toArray(new Certificate[0]));
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, password);

            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (!trusted.isEmpty()) {
                trust.init((KeyStore) null);
                KeyStore anchors = KeyStore.getInstance("PKCS12");
                anchors.load(null, null);
                int n = 0;
                for (X509Certificate certificate : ((X509TrustManager) trust.getTrustManagers()[0]).getAcceptedIssuers()) {
                    anchors.setCertificateEntry("default-" + n++, certificate);
                }
                for (X509Certificate certificate : trusted) {
                    anchors.setCertificateEntry("private-" + n++, certificate);
                }
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(anchors);
            } else {
                trust.init((KeyStore) null);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
            return context;
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException("in-memory key store", e);
        }
    }

    /** The identity's key material stays out of logs and messages. */
    @Override
    public String toString() {
        return "ClientIdentity[" + owner + ", " + fingerprint + "]";
    }

    private record Block(String label, byte[] der) {
    }

    private static List<Block> blocks(String pem) throws PemException {
        List<Block> blocks = new ArrayList<>();
        Matcher matcher = BLOCK.matcher(pem);
        while (matcher.find()) {
            try {
                blocks.add(new Block(matcher.group(1), Base64.getMimeDecoder().decode(matcher.group(2))));
            } catch (IllegalArgumentException e) {
                throw new PemException("holds a PEM block that is not base64");
            }
        }
        return blocks;
    }

    /** PKCS#1 RSAPrivateKey wrapped as PKCS#8 PrivateKeyInfo: SEQUENCE { version, algorithm, OCTET STRING key }. */
    private static byte[] rsaPkcs8(byte[] pkcs1) {
        byte[] octets = concat(new byte[] {0x04}, length(pkcs1.length), pkcs1);
        byte[] content = concat(RSA_PKCS8_HEADER, octets);
        return concat(new byte[] {0x30}, length(content.length), content);
    }

    private static byte[] length(int length) {
        if (length < 0x80) {
            return new byte[] {(byte) length};
        }
        byte[] digits = BigInteger.valueOf(length).toByteArray();
        int start = digits[0] == 0 ? 1 : 0;
        byte[] encoded = new byte[digits.length - start + 1];
        encoded[0] = (byte) (0x80 | (digits.length - start));
        System.arraycopy(digits, start, encoded, 1, digits.length - start);
        return encoded;
    }

    private static byte[] concat(byte[]... parts) {
        int size = 0;
        for (byte[] part : parts) {
            size += part.length;
        }
        byte[] all = new byte[size];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }
}
