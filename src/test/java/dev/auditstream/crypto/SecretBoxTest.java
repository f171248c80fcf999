package dev.auditstream.crypto;

import static dev.auditstream.crypto.SignedLinksTest.KEY_A;
import static dev.auditstream.crypto.SignedLinksTest.KEY_B;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretBoxTest {

    private static final byte[] SECRET = "hec-token-0123".getBytes(StandardCharsets.UTF_8);
    private static final byte[] STREAM_1 = "log_stream.secrets\0org_1\0als_1".getBytes(StandardCharsets.UTF_8);
    private static final byte[] STREAM_2 = "log_stream.secrets\0org_1\0als_2".getBytes(StandardCharsets.UTF_8);

    @Test
    void aSealedValueOpensOnlyWhereItWasSealedFor() {
        SecretBox box = new SecretBox(new KeyRing(KEY_A, null));
        byte[] sealed = box.seal(SECRET, STREAM_1);

        assertThat(box.open(sealed, STREAM_1)).isEqualTo(SECRET);
        // another stream (or organization, or column) is other associated data
        assertThatThrownBy(() -> box.open(sealed, STREAM_2)).isInstanceOf(IllegalStateException.class)
                .hasMessageNotContaining("hec-token");
        byte[] altered = sealed.clone();
        altered[altered.length - 1] ^= 1;
        assertThatThrownBy(() -> box.open(altered, STREAM_1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aValueCarriesItsKeyIdAndOpensWhileThatKeyIsCurrentOrPrevious() {
        byte[] underA = new SecretBox(new KeyRing(KEY_A, null)).seal(SECRET, STREAM_1);
        SecretBox rotating = new SecretBox(new KeyRing(KEY_B, KEY_A));
        byte[] underB = rotating.seal(SECRET, STREAM_1);

        assertThat(Arrays.copyOf(underA, 5)).isNotEqualTo(rotating.currentHeader());
        assertThat(Arrays.copyOf(underB, 5)).isEqualTo(rotating.currentHeader());
        assertThat(rotating.open(underA, STREAM_1)).isEqualTo(SECRET);
        assertThat(rotating.open(underB, STREAM_1)).isEqualTo(SECRET);
        assertThatThrownBy(() -> new SecretBox(new KeyRing(KEY_B, null)).open(underA, STREAM_1))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void valuesSealedBeforeKeyIdsStillOpenWithTheMasterKeyTheyWereSealedWith() throws Exception {
        byte[] legacy = OldFormat.seal(KEY_A, SECRET);

        assertThat(new SecretBox(new KeyRing(KEY_A, null)).open(legacy, STREAM_1)).isEqualTo(SECRET);
        assertThat(new SecretBox(new KeyRing(KEY_B, KEY_A)).open(legacy, STREAM_2)).isEqualTo(SECRET);
        assertThatThrownBy(() -> new SecretBox(new KeyRing(KEY_B, null)).open(legacy, STREAM_1))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void theEmbeddedModesGeneratedKeyIsKeptAndAnExternalDatabaseNeedsAConfiguredOne(@TempDir Path dataDir)
            throws Exception {
        KeyRing generated = KeyRing.load(null, null, true, dataDir);
        assertThat(Files.readString(dataDir.resolve("secret.key")).trim()).hasSize(44);
        assertThat(KeyRing.load("", "", true, dataDir).currentId()).isEqualTo(generated.currentId());

        String a = Base64.getEncoder().encodeToString(KEY_A);
        assertThat(KeyRing.load(a, null, false, dataDir).currentId()).isNotEqualTo(generated.currentId());
        assertThatThrownBy(() -> KeyRing.load(null, null, false, dataDir))
                .hasMessageContaining("AUDITSTREAM_SECRET_KEY");
        assertThatThrownBy(() -> KeyRing.load(a, a, false, dataDir)).hasMessageContaining("_PREVIOUS is AUDITSTREAM_SECRET_KEY itself");
        assertThatThrownBy(() -> KeyRing.load("c2hvcnQ=", null, false, dataDir)).hasMessageContaining("32 bytes");
    }

}
