package dev.auditstream.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HeaderRulesTest {

    @ParameterizedTest
    @ValueSource(strings = {"X-Api-Key", "x-api-key", "Api_Key", "DD-API-KEY", "X-Splunk-Token", "X.Custom~Key!",
        "X-1234567890123456789012345678901234567890123456789012345678901"})
    void customHeaderNames(String name) {
        assertThat(HeaderRules.nameProblem(name)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"CamelHttpUri", "camelhttpuri", "CAMELHTTPURI", "CamelHttpPath", "CamelHttpQuery",
        "CamelHttpRawQuery", "CamelHttpMethod", "CamelRestHttpUri", "CamelAwsS3Key", "Camel", "Host", "HOST",
        "Content-Length", "content-type", "Content-Encoding", "Transfer-Encoding", "Connection", "Keep-Alive",
        "Upgrade", "TE", "Trailer", "Expect", "Cookie", "Set-Cookie", "Proxy-Authorization", "Proxy-Connection",
        "webhook-signature", "Webhook-Id", "webhook-timestamp", "Authorization", "authorization", "User-Agent",
        "Forwarded"})
    void namesOwnedByCamelTheProtocolOrTheServiceAreRefused(String name) {
        assertThat(HeaderRules.nameProblem(name)).startsWith("may not be");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "X Api", "X-Key:", "X-Key\r\nX-Injected", "X-Key\n", "X\u0000", "Ключ",
        "X-(Key)", "X/Key", "X-123456789012345678901234567890123456789012345678901234567890123"})
    void namesThatAreNotTokensOrTooLongAreRefused(String name) {
        assertThat(HeaderRules.nameProblem(name)).startsWith("must be a header name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tok\r\nX-Injected: 1", "tok\n", "tok\r", "tok\u0000", "tok\t", "tok\u007f", "tok\u0085",
        "tök", "tok\u2028"})
    void headerValuesAreVisibleAscii(String value) {
        assertThat(HeaderRules.valueProblem(value)).isNotNull();
        assertThat(HeaderRules.valueProblem("{{env:AUDITSTREAM_API_KEYS}} ${header.x} ok")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"pass\r\nword", "pass\u0000", "pass\u007f", "pass\u0085"})
    void encodedValuesHaveNoControlCharacters(String value) {
        assertThat(HeaderRules.encodedValueProblem(value)).isNotNull();
        assertThat(HeaderRules.encodedValueProblem("pässwörd: {{x}}")).isNull();
    }
}
