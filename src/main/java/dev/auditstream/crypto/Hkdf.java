package dev.auditstream.crypto;

import java.nio.ByteBuffer;

/**
 * HKDF with HMAC-SHA256 (RFC 5869): turns the master key into independent keys, one per purpose. The JDK has no
 * HKDF before Java 24's {@code javax.crypto.KDF}; the construction is two HMAC loops, checked against the RFC's test
 * vectors.
 */
public final class Hkdf {

    private static final int HASH_BYTES = 32;

    private Hkdf() {
    }

    /** HKDF-Extract: a pseudorandom key from input keying material; an empty salt stands for 32 zero bytes. */
    public static byte[] extract(byte[] salt, byte[] inputKey) {
        return Hmac.sha256(salt.length == 0 ? new byte[HASH_BYTES] : salt, inputKey);
    }

    /** HKDF-Expand: {@code length} bytes of output keying material for the context {@code info}. */
    public static byte[] expand(byte[] pseudorandomKey, byte[] info, int length) {
        if (length < 1 || length > 255 * HASH_BYTES) {
            throw new IllegalArgumentException("HKDF-SHA256 gives 1 to 8160 bytes, not " + length);
        }
        ByteBuffer output = ByteBuffer.allocate(length);
        byte[] block = new byte[0];
        for (int counter = 1; output.hasRemaining(); counter++) {
            block = Hmac.sha256(pseudorandomKey, block, info, new byte[] {(byte) counter});
            output.put(block, 0, Math.min(block.length, output.remaining()));
        }
        return output.array();
    }
}
