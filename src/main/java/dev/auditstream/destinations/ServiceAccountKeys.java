package dev.auditstream.destinations;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.auth.oauth2.ServiceAccountCredentials;

import dev.auditstream.api.Json;

/**
 * Google Cloud service-account key files, as the Cloud Console downloads them: checked whole when a stream is
 * configured (so a malformed key is a 422, never a stream that goes invalid later), and turned into credentials.
 * Messages never quote the key.
 */
final class ServiceAccountKeys {

    /** Google's OAuth token endpoint, and its older address that keys made before 2019 name. */
    static final List<String> GOOGLE_TOKEN_URIS = List.of("https://oauth2.googleapis.com/token",
            "https://accounts.google.com/o/oauth2/token");

    private ServiceAccountKeys() {
    }

    /**
     * What is wrong with a key file, or null when it is a service-account key whose RSA private key signs.
     *
     * @param anyTokenUri whether the key may name a token endpoint other than Google's (private destinations allowed)
     */
    static String problem(String json, boolean anyTokenUri) {
        JsonNode key;
        try {
            key = Json.MAPPER.readTree(json);
        } catch (IOException e) {
            return "is not JSON: paste the whole key file the Cloud Console downloaded.";
        }
        if (key == null || !key.isObject() || !"service_account".equals(key.path("type").asText())) {
            return "must be a service account key file (\"type\": \"service_account\").";
        }
        for (String member : List.of("client_email", "private_key", "token_uri")) {
            if (!key.path(member).isTextual() || key.path(member).asText().isBlank()) {
                return "has no " + member + ".";
            }
        }
        if (!anyTokenUri && !GOOGLE_TOKEN_URIS.contains(key.get("token_uri").asText())) {
            return "names a token_uri that is not Google's (" + GOOGLE_TOKEN_URIS.get(0) + ").";
        }
        String signing = signingProblem(key.get("private_key").asText());
        if (signing != null) {
            return signing;
        }
        try {
            credentials(json, null);
        } catch (IOException e) {
            return "cannot be loaded by Google's client: it needs client_id, client_email, private_key and "
                    + "private_key_id, as the Cloud Console writes them.";
        }
        return null;
    }

    /** The key's credentials; their token requests go to {@code tokenUri} when set (tests, emulators). */
    static ServiceAccountCredentials credentials(String json, URI tokenUri) throws IOException {
        ServiceAccountCredentials credentials = ServiceAccountCredentials.fromStream(
                new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
        return tokenUri == null ? credentials : credentials.toBuilder().setTokenServerUri(tokenUri).build();
    }

    /** Null when the PEM holds a PKCS#8 RSA private key that signs with SHA256withRSA (what the token grant uses). */
    private static String signingProblem(String pem) {
        String base64 = pem.replace("-----BEGIN PRIVATE KEY-----", "").replace("-----END PRIVATE KEY-----", "")
                .replaceAll("\\s", "");
        PrivateKey key;
        try {
            key = KeyFactory.getInstance("RSA").generatePrivate(
                    new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            return "has a private_key that is not a PEM-encoded RSA private key (PKCS#8).";
        }
        try {
            Signature signature = Signature.getInstance("SHA256withRSA");
            signature.initSign(key);
            signature.update("auditstream".getBytes(StandardCharsets.UTF_8));
            signature.sign();
            return null;
        } catch (GeneralSecurityException e) {
            return "has a private_key that cannot sign (SHA256withRSA).";
        }
    }
}
