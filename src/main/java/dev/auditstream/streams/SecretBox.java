package dev.auditstream.streams;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import dev.auditstream.api.Hmac;

/** AES-256-GCM for stream secrets at rest: a random 12-byte nonce per value, stored before the ciphertext. */
public final class SecretBox {

    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    private SecretBox(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("AUDITSTREAM_SECRET_KEY must be base64 of 32 bytes");
        }
        this.key = new SecretKeySpec(key, "AES");
    }

    /**
     * From the configured base64 key; without one, from (or newly into) {@code secret.key} in the data directory,
     * which only the embedded database may rely on: with an external database the key must be configured, or every
     * instance would encrypt with a different key.
     */
    public static SecretBox load(String configured, boolean embeddedDatabase, Path dataDir) throws IOException {
        if (configured != null && !configured.isBlank()) {
            return new SecretBox(Base64.getDecoder().decode(configured.trim()));
        }
        if (!embeddedDatabase) {
            throw new IllegalStateException("AUDITSTREAM_SECRET_KEY must be set when AUDITSTREAM_DB_URL is: "
                    + "every instance needs the same key to read stream secrets (base64 of 32 random bytes, "
                    + "e.g. openssl rand -base64 32)");
        }
        Path file = dataDir.resolve("secret.key");
        if (!Files.exists(file)) {
            byte[] generated = new byte[32];
            new SecureRandom().nextBytes(generated);
            Files.createDirectories(dataDir);
            Files.writeString(file, Base64.getEncoder().encodeToString(generated) + "\n");
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        }
        return new SecretBox(Base64.getDecoder().decode(Files.readString(file).trim()));
    }

    /** A key for another purpose (e.g. signing download links), derived from this one. */
    public byte[] derive(String purpose) {
        return Hmac.sha256(key.getEncoded(), purpose.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] seal(byte[] plain) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            byte[] sealed = cipher.doFinal(plain);
            return ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Could not encrypt a stream secret", e);
        }
    }

    public byte[] open(byte[] sealed) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
            return cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
        } catch (GeneralSecurityException e) {
            // never the secret in the message; a wrong AUDITSTREAM_SECRET_KEY is the usual cause
            throw new IllegalStateException("Could not decrypt stream secrets: is AUDITSTREAM_SECRET_KEY the key they were stored with?");
        }
    }
}
