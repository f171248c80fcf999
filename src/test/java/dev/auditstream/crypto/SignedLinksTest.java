package dev.auditstream.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import dev.auditstream.api.Json;
import dev.auditstream.crypto.SignedLinks.Verdict;

class SignedLinksTest {

    static final byte[] KEY_A = bytes(1);
    static final byte[] KEY_B = bytes(2);
    private static final Instant NOW = Instant.parse("2024-06-01T12:00:00Z");

    private final SignedLinks links = links(new KeyRing(KEY_A, null), KeyRing.Purpose.PORTAL_TOKENS, NOW);

    @Test
    void aTokenIsValidUntilItExpiresThenExpiredWithItsClaims() {
        String token = links.sign("link", NOW.plusSeconds(300), claims("org_1"));

        SignedLinks.Verified fresh = links.verify("link", token);
        assertThat(fresh.verdict()).isEqualTo(Verdict.VALID);
        assertThat(fresh.claims().get("o").asText()).isEqualTo("org_1");
        assertThat(links(new KeyRing(KEY_A, null), KeyRing.Purpose.PORTAL_TOKENS, NOW.plusSeconds(299))
                .verify("link", token).valid()).isTrue();

        SignedLinks.Verified late = links(new KeyRing(KEY_A, null), KeyRing.Purpose.PORTAL_TOKENS, NOW.plusSeconds(300))
                .verify("link", token);
        assertThat(late.verdict()).isEqualTo(Verdict.EXPIRED);
        assertThat(late.claims().get("o").asText()).isEqualTo("org_1");
    }

    @Test
    void anAlteredOrMadeUpTokenIsForged() {
        String token = links.sign("link", NOW.plusSeconds(300), claims("org_1"));
        String[] parts = token.split("\\.");
        String otherClaims = Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"k\":\"link\",\"e\":99999999999,\"o\":\"org_2\"}".getBytes(StandardCharsets.UTF_8));

        for (String forged : new String[] {
            parts[0] + "." + otherClaims + "." + parts[2],
            parts[0] + "." + parts[1] + "." + parts[2].substring(1) + (parts[2].charAt(0) == 'A' ? "B" : "A"),
            parts[0] + "." + parts[1] + ".",
            parts[1] + "." + parts[2],
            "0000000" + (parts[0].charAt(7) == '0' ? "1" : "0") + "." + parts[1] + "." + parts[2],
            token + "x", "x" + token, "", "...", "not a token"}) {
            assertThat(links.verify("link", forged).verdict()).as(forged).isEqualTo(Verdict.FORGED);
        }
        assertThat(links.verify("link", null).verdict()).isEqualTo(Verdict.FORGED);
    }

    @Test
    void aTokenOfAnotherKindOrPurposeIsForged() {
        String link = links.sign("link", NOW.plusSeconds(300), claims("org_1"));
        assertThat(links.verify("session", link).verdict()).isEqualTo(Verdict.FORGED);
        assertThat(links(new KeyRing(KEY_A, null), KeyRing.Purpose.DOWNLOAD_LINKS, NOW).verify("link", link).verdict())
                .isEqualTo(Verdict.FORGED);
    }

    @Test
    void theKeyIdPicksTheKeyAndOnlyConfiguredKeysVerify() {
        String signedWithA = links.sign("session", NOW.plusSeconds(60), claims("org_1"));
        SignedLinks rotated = links(new KeyRing(KEY_B, KEY_A), KeyRing.Purpose.PORTAL_TOKENS, NOW);
        String signedWithB = rotated.sign("session", NOW.plusSeconds(60), claims("org_1"));

        String idA = new KeyRing(KEY_A, null).currentId();
        assertThat(signedWithA).startsWith(idA + ".");
        assertThat(signedWithB).startsWith(new KeyRing(KEY_B, null).currentId() + ".");
        assertThat(rotated.verify("session", signedWithA).valid()).isTrue();
        assertThat(rotated.verify("session", signedWithB).valid()).isTrue();

        // after the rotation, only B
        SignedLinks onlyB = links(new KeyRing(KEY_B, null), KeyRing.Purpose.PORTAL_TOKENS, NOW);
        assertThat(onlyB.verify("session", signedWithA).verdict()).isEqualTo(Verdict.FORGED);
        assertThat(onlyB.verify("session", signedWithB).valid()).isTrue();
        // a token under A's id but signed with another key
        String mixed = idA + signedWithB.substring(signedWithB.indexOf('.'));
        assertThat(rotated.verify("session", mixed).verdict()).isEqualTo(Verdict.FORGED);
    }

    static byte[] bytes(int seed) {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (seed * 31 + i);
        }
        return key;
    }

    private static SignedLinks links(KeyRing keys, KeyRing.Purpose purpose, Instant now) {
        return new SignedLinks(keys, purpose, Clock.fixed(now, ZoneOffset.UTC));
    }

    private static ObjectNode claims(String organization) {
        return Json.MAPPER.createObjectNode().put("o", organization);
    }
}
