package dev.auditstream.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.auditstream.destinations.Failure;

/** What a failure means given the stream's recent history: TLS that persists, refusals of everything. */
class FailureRulesTest {

    private static final Instant NOW = Instant.parse("2026-01-15T10:30:00Z");
    private static final Failure TLS = Failure.tls("PKIX path building failed: unable to find valid certification path");

    @Test
    void aTlsFailureIsRetriedAtFirst() {
        assertThat(TLS.kind()).isEqualTo(Failure.Kind.RETRY);
        assertThat(FailureRules.persisting(TLS, "active", NOW, null, NOW)).isSameAs(TLS);
        assertThat(FailureRules.persisting(TLS, "error", NOW.minus(Duration.ofMinutes(59)), TLS.message(), NOW))
                .isSameAs(TLS);
    }

    @Test
    void aTlsFailureThatPersistedAnHourMakesTheStreamInvalidWithTheCertificateProblem() {
        Failure persisting = FailureRules.persisting(TLS, "error", NOW.minus(Duration.ofMinutes(61)), TLS.message(), NOW);
        assertThat(persisting.kind()).isEqualTo(Failure.Kind.INVALID);
        assertThat(persisting.message()).contains("PKIX path building failed").contains("hour");
    }

    @Test
    void anHourOfErrorsThatWereNotTlsDoesNotCount() {
        assertThat(FailureRules.persisting(TLS, "error", NOW.minus(Duration.ofHours(3)), "HTTP 503: busy", NOW))
                .isSameAs(TLS);
        Failure busy = Failure.ofStatus(503, "HTTP 503: busy", 0);
        assertThat(FailureRules.persisting(busy, "error", NOW.minus(Duration.ofHours(3)), TLS.message(), NOW))
                .isSameAs(busy);
    }

    @Test
    void aRefusalOfEverythingIsAnErrorOrForAuthLikeAnswersInvalid() {
        assertThat(FailureRules.stateWhenEverythingIsRefused("HTTP 400: {\"error\":\"bad request\"}")).isEqualTo("error");
        assertThat(FailureRules.stateWhenEverythingIsRefused("HTTP 422: schema mismatch")).isEqualTo("error");
        assertThat(FailureRules.stateWhenEverythingIsRefused("HTTP 400: {\"error\":\"invalid signature\"}"))
                .isEqualTo("invalid");
        assertThat(FailureRules.stateWhenEverythingIsRefused("HTTP 400: Invalid API key")).isEqualTo("invalid");
        assertThat(FailureRules.stateWhenEverythingIsRefused("HTTP 400: token expired")).isEqualTo("invalid");
        assertThat(FailureRules.stateWhenEverythingIsRefused("HTTP 400: Unauthorized")).isEqualTo("invalid");
    }
}
