package dev.auditstream.crypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master keys ({@code AUDITSTREAM_SECRET_KEY} and, during a rotation, {@code AUDITSTREAM_SECRET_KEY_PREVIOUS})
 * and the keys derived from each with HKDF, one per purpose: the key that signs a portal session cannot decrypt a
 * stream secret or sign a download link. Each master key has an id, derived and not secret, that sealed values and
 * signed tokens carry so the key that made them is found again; everything new is sealed and signed with the
 * current key.
 */
public final class KeyRing {

    /** What a derived key is for; its name is the HKDF context, so it must never change. */
    public enum Purpose {
        SECRETS_AT_REST("secrets at rest"),
        PORTAL_TOKENS("portal tokens"),
        DOWNLOAD_LINKS("download links");

        private final byte[] info;

        Purpose(String name) {
            this.info = ("auditstream " + name).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A derived key and the id of the master key it comes from. */
    record Key(String id, byte[] bytes) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(KeyRing.class);
    static final int KEY_ID_BYTES = 4;
    private static final int KEY_BYTES = 32;
    private static final byte[] SALT = "dev.auditstream key ring".getBytes(StandardCharsets.UTF_8);
    private static final byte[] KEY_ID_INFO = "auditstream key id".getBytes(StandardCharsets.UTF_8);

    /** Current first, then the previous one if any. */
    private final List<Master> masters = new ArrayList<>();

    KeyRing(byte[] current, byte[] previous) {
        masters.add(new Master(current, "AUDITSTREAM_SECRET_KEY"));
        if (previous != null) {
            if (MessageDigest.isEqual(current, previous)) {
                throw new IllegalStateException("AUDITSTREAM_SECRET_KEY_PREVIOUS is AUDITSTREAM_SECRET_KEY itself: "
                        + "set the new key as AUDITSTREAM_SECRET_KEY and the old one as _PREVIOUS");
            }
            masters.add(new Master(previous, "AUDITSTREAM_SECRET_KEY_PREVIOUS"));
        }
        LOG.info("Sealing and signing with master key {}{}", currentId(), masters.size() > 1
                ? "; accepting the previous key " + masters.get(1).id + " until nothing needs it" : "");
    }

    /**
     * From the configured base64 keys; without a current key, from (or newly into) {@code secret.key} in the data
     * directory, which only the embedded database may rely on: with an external database the key must be
     * configured, or every instance would use a different key.
     */
    public static KeyRing load(String configured, String previous, boolean embeddedDatabase, Path dataDir)
            throws IOException {
        byte[] previousKey = blank(previous) ? null : decode(previous, "AUDITSTREAM_SECRET_KEY_PREVIOUS");
        if (!blank(configured)) {
            return new KeyRing(decode(configured, "AUDITSTREAM_SECRET_KEY"), previousKey);
        }
        if (!embeddedDatabase) {
            throw new IllegalStateException("AUDITSTREAM_SECRET_KEY must be set when AUDITSTREAM_DB_URL is: "
                    + "every instance needs the same key to read stream secrets (base64 of 32 random bytes, "
                    + "e.g. openssl rand -base64 32)");
        }
        Path file = dataDir.resolve("secret.key");
        if (!Files.exists(file)) {
            byte[] generated = new byte[KEY_BYTES];
            new SecureRandom().nextBytes(generated);
            Files.createDirectories(dataDir);
            Files.writeString(file, Base64.getEncoder().encodeToString(generated) + "\n");
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        }
        return new KeyRing(decode(Files.readString(file), file.toString()), previousKey);
    }

    /** The id of the current master key (hex), the one everything new is sealed and signed with. */
    public String currentId() {
        return masters.get(0).id;
    }

    Key current(Purpose purpose) {
        return masters.get(0).derived.get(purpose);
    }

    /** The derived key of the master key with this id, if it is one of ours. */
    Optional<Key> find(Purpose purpose, String keyId) {
        return masters.stream().filter(m -> m.id.equals(keyId)).findFirst().map(m -> m.derived.get(purpose));
    }

    /** The master keys themselves, current first: stream secrets sealed before keys were derived used them as is. */
    List<byte[]> masterKeys() {
        return masters.stream().map(m -> m.key).toList();
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    private static byte[] decode(String base64, String source) {
        try {
            return Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(source + " must be base64 of 32 bytes");
        }
    }

    private static final class Master {
        private final byte[] key;
        private final String id;
        private final Map<Purpose, Key> derived = new EnumMap<>(Purpose.class);

        Master(byte[] key, String source) {
            if (key.length != KEY_BYTES) {
                throw new IllegalStateException(source + " must be base64 of 32 bytes, not " + key.length);
            }
            this.key = key;
            byte[] pseudorandomKey = Hkdf.extract(SALT, key);
            this.id = HexFormat.of().formatHex(Hkdf.expand(pseudorandomKey, KEY_ID_INFO, KEY_ID_BYTES));
            for (Purpose purpose : Purpose.values()) {
                derived.put(purpose, new Key(id, Hkdf.expand(pseudorandomKey, purpose.info, KEY_BYTES)));
            }
        }
    }
}
