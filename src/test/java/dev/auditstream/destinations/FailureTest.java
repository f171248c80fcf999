package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The HTTP status rules every destination starts from, and TLS failures told apart by their message. */
class FailureTest {

    @ParameterizedTest
    @CsvSource({
            "408, RETRY", "429, RETRY", "500, RETRY", "502, RETRY", "503, RETRY", "504, RETRY", "599, RETRY",
            "400, REJECTED", "413, REJECTED", "422, REJECTED",
            "401, INVALID", "403, INVALID", "404, INVALID", "410, INVALID", "405, INVALID", "409, INVALID",
            "411, INVALID", "412, INVALID", "414, INVALID", "415, INVALID", "421, INVALID", "423, INVALID",
            "428, INVALID", "431, INVALID", "499, INVALID",
            "301, INVALID", "302, INVALID", "307, INVALID", "308, INVALID",
    })
    void eachStatusMapsToTheKindOfFailureItMeans(int status, Failure.Kind kind) {
        assertThat(Failure.kindOf(status)).isEqualTo(kind);
    }

    @Test
    void aStatusFailureKeepsTheStatusMessageAndRetryAfterAndTookNothing() {
        Failure failure = Failure.ofStatus(429, "HTTP 429: slow down", 30);
        assertThat(failure).isEqualTo(new Failure(Failure.Kind.RETRY, 429, "HTTP 429: slow down", 0, 30));
        assertThat(failure.isTls()).isFalse();
    }

    @Test
    void aTlsFailureIsRetriedWithoutStatusAndIsRecognisedByItsMessage() {
        Failure tls = Failure.tls("certificate expired");
        assertThat(tls).isEqualTo(new Failure(Failure.Kind.RETRY, null, "TLS failed: certificate expired", 0, 0));
        assertThat(tls.isTls()).isTrue();
    }

    @Test
    void onlyAMessageStartingWithThePrefixIsTls() {
        assertThat(new Failure(Failure.Kind.RETRY, 503, "HTTP 503: TLS failed: upstream", 0, 0).isTls()).isFalse();
        assertThat(new Failure(Failure.Kind.RETRY, null, "tls failed: lower case", 0, 0).isTls()).isFalse();
        assertThat(new Failure(Failure.Kind.INTERNAL, null, null, 0, 0).isTls()).isFalse();
    }
}
