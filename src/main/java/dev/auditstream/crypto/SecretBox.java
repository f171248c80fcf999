package dev.auditstream.crypto;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for secrets at rest. A sealed value is {@code 0x01 | key id (4 bytes) | nonce (12) | ciphertext and
 * tag}, sealed with the current key for secrets at rest and with associated data that names what the value belongs
 * to, so it opens only there. Values sealed before keys were derived ({@code nonce | ciphertext}, the master key
 * itself, no associated data) still open, until they are sealed again.
 */
public final class SecretBox {

    private static final byte FORMAT = 1;
    private static final int HEADER_BYTES = 1 + KeyRing.KEY_ID_BYTES;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final KeyRing keys;
    private final SecureRandom random = new SecureRandom();

    public SecretBox(KeyRing keys) {
        this.keys = keys;
    }

    public byte[] seal(byte[] plain, byte[] associatedData) {
        KeyRing.Key key = keys.current(KeyRing.Purpose.SECRETS_AT_REST);
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        try {
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, key.bytes(), nonce, 0);
            cipher.updateAAD(associatedData);
            byte[] sealed = cipher.doFinal(plain);
            return ByteBuffer.allocate(HEADER_BYTES + NONCE_BYTES + sealed.length)
                    .put(FORMAT).put(HexFormat.of().parseHex(key.id())).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Could not encrypt a secret", e);
        }
    }

    /** The value in clear, if it was sealed for this associated data with one of the configured keys. */
    public byte[] open(byte[] sealed, byte[] associatedData) {
        Optional<KeyRing.Key> key = keyOf(sealed);
        if (key.isPresent()) {
            try {
                Cipher cipher = cipher(Cipher.DECRYPT_MODE, key.get().bytes(), sealed, HEADER_BYTES);
                cipher.updateAAD(associatedData);
                return cipher.doFinal(sealed, HEADER_BYTES + NONCE_BYTES, sealed.length - HEADER_BYTES - NONCE_BYTES);
            } catch (GeneralSecurityException notThisValue) {
                // moved from elsewhere or altered, or (one in 2^40) a value of the first format that looks like one
            }
        }
        for (byte[] master : keys.masterKeys()) {
            try {
                return cipher(Cipher.DECRYPT_MODE, master, sealed, 0)
                        .doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
            } catch (GeneralSecurityException | IllegalArgumentException notThisKey) {
                // try the next one
            }
        }
        // never the secret in the message; a missing AUDITSTREAM_SECRET_KEY_PREVIOUS is the usual cause
        throw new IllegalStateException("Could not decrypt a stored secret: is it sealed with AUDITSTREAM_SECRET_KEY "
                + "or AUDITSTREAM_SECRET_KEY_PREVIOUS, and does it belong where it is stored?");
    }

    /** The first bytes of every value sealed with the current key, for finding the others in the database. */
    public byte[] currentHeader() {
        return ByteBuffer.allocate(HEADER_BYTES).put(FORMAT)
                .put(HexFormat.of().parseHex(keys.currentId())).array();
    }

    private Optional<KeyRing.Key> keyOf(byte[] sealed) {
        if (sealed.length <= HEADER_BYTES + NONCE_BYTES || sealed[0] != FORMAT) {
            return Optional.empty();
        }
        return keys.find(KeyRing.Purpose.SECRETS_AT_REST, HexFormat.of().formatHex(sealed, 1, HEADER_BYTES));
    }

    private static Cipher cipher(int mode, byte[] key, byte[] nonceSource, int nonceOffset)
            throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonceSource, nonceOffset,
                NONCE_BYTES));
        return cipher;
    }
}
