package dev.auditstream.receivers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Key pairs with self-signed certificates made by the JDK's own {@code keytool} (no certificate library needed), in
 * PEM as customers paste them, and TLS contexts for the loopback receivers that use them.
 */
public final class TestCertificates {

    private static final char[] PASSWORD = "changeit".toCharArray();

    /** A key and its self-signed certificate. */
    public record Identity(PrivateKey key, X509Certificate certificate) {

        public String certificatePem() {
            return pem("CERTIFICATE", encoded(certificate));
        }

        /** PKCS#8, unencrypted. */
        public String keyPem() {
            return pem("PRIVATE KEY", key.getEncoded());
        }
    }

    private TestCertificates() {
    }

    /**
     * An EC P-256 identity named {@code cn}, valid from {@code startDate} (keytool's syntax, e.g. {@code -3d}; null:
     * now) for {@code days}, for 127.0.0.1.
     */
    public static Identity create(Path dir, String cn, String startDate, int days) throws Exception {
        return create(dir, cn, startDate, days, "ip:127.0.0.1");
    }

    /** The same for {@code san}, keytool's subject alternative names (e.g. {@code dns:siem.test}). */
    public static Identity create(Path dir, String cn, String startDate, int days, String san) throws Exception {
        Path store = dir.resolve(cn + ".p12");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", cn,
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + cn, "-ext", "SAN=" + san,
                "-validity", String.valueOf(days), "-keystore", store.toString(), "-storetype", "PKCS12",
                "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD)));
        if (startDate != null) {
            command.addAll(List.of("-startdate", startDate));
        }
        Process keytool = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes());
        if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, PASSWORD);
        }
        return new Identity((PrivateKey) keys.getKey(cn, PASSWORD), (X509Certificate) keys.getCertificate(cn));
    }

    /** A server's TLS: presents {@code server}, trusts client certificates issued as {@code trustedClients}. */
    public static SSLContext serverTls(Identity server, Identity... trustedClients) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", server.key(), PASSWORD, new X509Certificate[] {server.certificate()});
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, PASSWORD);
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        for (Identity client : trustedClients) {
            trusted.setCertificateEntry(client.certificate().getSubjectX500Principal().getName(), client.certificate());
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
        return tls;
    }

    private static byte[] encoded(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /** A fresh directory for keytool's stores. */
    public static Path directory() throws IOException {
        return Files.createTempDirectory("auditstream-certificates");
    }
}
