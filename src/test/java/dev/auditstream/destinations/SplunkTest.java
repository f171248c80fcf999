package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.auditstream.api.Json;
import dev.auditstream.outbound.ErrorAnswerException;
import dev.auditstream.outbound.OutboundRequest;
import dev.auditstream.outbound.OutboundResponse;

/** How HEC's answers are read: code 0 alone is success, every other code says what failed. */
class SplunkTest {

    /** No acknowledgement is asked for in these tests: the client is never used. */
    private final Splunk splunk = new Splunk(1_000_000, null, Duration.ofSeconds(1));

    @Test
    void onlyCodeZeroIsAccepted() throws Exception {
        assertThat(Splunk.accepted(json("{\"text\":\"Success\",\"code\":0}"))).isTrue();
        assertThat(Splunk.accepted(json("{\"code\":0,\"ackId\":7}"))).isTrue();
        assertThat(Splunk.accepted(json("{\"code\":1,\"text\":\"Token disabled\"}"))).isFalse();
        assertThat(Splunk.accepted(json("{\"code\":9,\"text\":\"Server is busy\"}"))).isFalse();
        assertThat(Splunk.accepted(json("{\"code\":-1}"))).isFalse();
    }

    @Test
    void anAnswerWithoutCodeIsNotAccepted() throws Exception {
        assertThat(Splunk.accepted(json("{}"))).isFalse();
        assertThat(Splunk.accepted(json("{\"text\":\"Success\"}"))).isFalse();
        assertThat(Splunk.accepted(json("[0]"))).isFalse();
        assertThat(Splunk.accepted(json("{\"result\":{\"code\":0}}"))).isFalse();
    }

    @Test
    void aCodeThatOnlyLooksLikeZeroIsNotAccepted() throws Exception {
        assertThat(Splunk.accepted(json("{\"code\":\"0\"}"))).isFalse();
        assertThat(Splunk.accepted(json("{\"code\":false}"))).isFalse();
        assertThat(Splunk.accepted(json("{\"code\":0.7}"))).isFalse();
        assertThat(Splunk.accepted(json("{\"code\":null}"))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "<html><body>Sign in</body></html>", "OK", "{\"code\":"})
    void aTwoHundredThatIsNotHecJsonIsAnErrorAnswer(String body) {
        OutboundResponse answer = new OutboundResponse(200, Map.of(), body.getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> splunk.confirm(null, request(), answer))
                .isInstanceOf(ErrorAnswerException.class)
                .satisfies(e -> assertThat(((ErrorAnswerException) e).answer()).isSameAs(answer));
    }

    @Test
    void aTwoHundredWithCodeZeroAndNoAckIdIsConfirmedAtOnce() throws Exception {
        OutboundResponse answer = new OutboundResponse(200, Map.of(),
                "{\"text\":\"Success\",\"code\":0}".getBytes(StandardCharsets.UTF_8));
        splunk.confirm(null, request(), answer);
    }

    @ParameterizedTest
    @CsvSource({
            "1, INVALID", "2, INVALID", "3, INVALID", "4, INVALID", "7, INVALID", "10, INVALID", "11, INVALID",
            "14, INVALID", "15, INVALID", "16, INVALID", "17, INVALID",
            "5, REJECTED", "6, REJECTED", "12, REJECTED", "13, REJECTED",
            "8, RETRY", "9, RETRY", "18, RETRY", "19, RETRY", "20, RETRY",
    })
    void eachHecCodeMapsToItsKindWhateverTheStatus(int code, Failure.Kind kind) {
        // 200 on its own would be INVALID and 503 RETRY: the code wins over both
        for (int status : new int[] {200, 400, 403, 503}) {
            Failure failure = splunk.classify(status, "{\"text\":\"t\",\"code\":" + code + "}", 0);
            assertThat(failure.kind()).as("code %d with HTTP %d", code, status).isEqualTo(kind);
            assertThat(failure.httpStatus()).isEqualTo(status);
        }
    }

    @ParameterizedTest
    @CsvSource({
            "0, 503, RETRY", "0, 400, REJECTED", "0, 401, INVALID",
            "21, 503, RETRY", "21, 413, REJECTED", "21, 404, INVALID",
            "-1, 429, RETRY", "-1, 422, REJECTED", "-1, 200, INVALID",
    })
    void aCodeHecDoesNotDocumentFallsBackToTheStatus(int code, int status, Failure.Kind kind) {
        assertThat(splunk.classify(status, "{\"code\":" + code + "}", 0).kind()).isEqualTo(kind);
    }

    @Test
    void aBodyThatIsNotJsonIsClassifiedByItsStatusWithTheBodyAsMessage() {
        Failure failure = splunk.classify(502, "<html>\n  Bad   gateway\n</html>", 12);
        assertThat(failure).isEqualTo(new Failure(Failure.Kind.RETRY, 502,
                "HTTP 502, Splunk code -1: <html> Bad gateway </html>", 0, 12));
    }

    @Test
    void theMessageCarriesStatusCodeAndHecText() {
        Failure failure = splunk.classify(403, "{\"text\":\"Invalid token\",\"code\":4}", 0);
        assertThat(failure).isEqualTo(new Failure(Failure.Kind.INVALID, 403,
                "HTTP 403, Splunk code 4: Invalid token", 0, 0));
    }

    @Test
    void invalidEventNumberCountsTheEventsHecTookBeforeTheRefusedOne() {
        Failure failure = splunk.classify(400,
                "{\"text\":\"Invalid data format\",\"code\":6,\"invalid-event-number\":3}", 0);
        assertThat(failure.kind()).isEqualTo(Failure.Kind.REJECTED);
        assertThat(failure.acceptedBefore()).isEqualTo(3);
        assertThat(splunk.classify(400, "{\"code\":6,\"invalid-event-number\":-2}", 0).acceptedBefore()).isZero();
        assertThat(splunk.classify(400, "{\"code\":6}", 0).acceptedBefore()).isZero();
    }

    private static JsonNode json(String text) throws Exception {
        return Json.MAPPER.readTree(text);
    }

    private static OutboundRequest request() {
        return OutboundRequest.post(URI.create("https://splunk.example.com:8088/services/collector/event"), List.of(),
                new byte[0]);
    }
}
