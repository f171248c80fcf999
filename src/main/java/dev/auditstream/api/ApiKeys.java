package dev.auditstream.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The installation's secret keys. Only SHA-256 digests are held; a presented key is hashed and compared against
 * every digest in constant time, so neither timing nor a heap dump gives a key away.
 */
public final class ApiKeys {

    private static final Logger LOG = LoggerFactory.getLogger(ApiKeys.class);
    private static final String BEARER = "Bearer ";

    private final List<byte[]> digests;

    private ApiKeys(List<byte[]> digests) {
        this.digests = digests;
    }

    /**
     * From a comma-separated list, or else from (or newly into) {@code api-key.sha256} in the data directory, which
     * only the embedded database may rely on: with an external database every instance would make a key of its own.
     */
    public static ApiKeys load(String configured, boolean embeddedDatabase, Path dataDir) throws IOException {
        if (configured != null && !configured.isBlank()) {
            return new ApiKeys(Arrays.stream(configured.split(","))
                    .map(String::trim).filter(k -> !k.isEmpty()).map(ApiKeys::sha256).toList());
        }
        if (!embeddedDatabase) {
            throw new IllegalStateException("AUDITSTREAM_API_KEYS must be set when AUDITSTREAM_DB_URL is: every "
                    + "instance must accept the same keys (comma-separated, e.g. sk_$(openssl rand -hex 24))");
        }
        Path file = dataDir.resolve("api-key.sha256");
        if (!Files.exists(file)) {
            Files.createDirectories(dataDir);
            String key = generate();
            Files.writeString(file, HexFormat.of().formatHex(sha256(key)) + "\n");
            restrict(file);
            // to the console only: a key must not travel down a log pipeline
            System.err.printf("%n  No AUDITSTREAM_API_KEYS set: generated an API key. It is shown only this once:%n%n"
                    + "      %s%n%n  Only its hash is kept, in %s. Delete that file to generate a new key.%n%n", key, file);
        }
        return new ApiKeys(List.of(HexFormat.of().parseHex(Files.readString(file).trim())));
    }

    static String generate() {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        return "sk_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    /** True when the Authorization header carries one of the keys. */
    public boolean accepts(String authorization) {
        return acceptedDigest(authorization) != null;
    }

    /**
     * Route step: refuses the exchange unless it carries a valid key; returns that key's SHA-256 (what the request's
     * actor is known by, so the key is hashed once per request).
     */
    public byte[] require(String authorization) {
        byte[] digest = acceptedDigest(authorization);
        if (digest == null) {
            throw ApiException.unauthorized();
        }
        return digest;
    }

    /** The SHA-256 of the key an Authorization header presents ({@code Bearer <key>}) when it is one of the keys. */
    private byte[] acceptedDigest(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return null;
        }
        byte[] presented = sha256(authorization.substring(BEARER.length()).trim());
        boolean match = false;
        for (byte[] digest : digests) {
            match |= MessageDigest.isEqual(digest, presented);
        }
        return match ? presented : null;
    }

    public static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void restrict(Path file) {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            LOG.debug("Could not restrict permissions of {}", file, e);
        }
    }
}
