package dev.auditstream.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.auditstream.delivery.StreamStates.Change;

/** What a PATCH does to a stream's state: pause, resume, incomplete and completed configs, config changes. */
class ManualChangeTest {

    private static final List<String> NONE = List.of();
    private static final String INCOMPLETE_URL = "Configuration incomplete: missing url.";
    private static final String BUSY = "HTTP 503: busy";

    @ParameterizedTest
    @ValueSource(strings = {"active", "error", "invalid", "inactive"})
    void aPauseMakesAnyStreamInactiveWithPausedAsReason(String from) {
        assertThat(StreamStates.decide(from, BUSY, "inactive", NONE, false))
                .isEqualTo(new Change("inactive", "Paused.", false));
        assertThat(StreamStates.decide(from, null, "inactive", NONE, true))
                .isEqualTo(new Change("inactive", "Paused.", true));
    }

    @Test
    void aPauseWinsOverAnIncompleteConfig() {
        assertThat(StreamStates.decide("active", null, "inactive", List.of("url"), true))
                .isEqualTo(new Change("inactive", "Paused.", true));
    }

    @Test
    void aPauseReplacesTheIncompleteReason() {
        assertThat(StreamStates.decide("inactive", INCOMPLETE_URL, "inactive", NONE, false))
                .isEqualTo(new Change("inactive", "Paused.", false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"active", "error", "invalid", "inactive"})
    void aConfigMissingRequiredMembersMakesTheStreamInactiveAndSaysWhich(String from) {
        assertThat(StreamStates.decide(from, BUSY, null, List.of("url", "token"), true))
                .isEqualTo(new Change("inactive", "Configuration incomplete: missing url, token.", true));
        assertThat(StreamStates.decide(from, BUSY, null, List.of("token"), false))
                .isEqualTo(new Change("inactive", "Configuration incomplete: missing token.", false));
    }

    @Test
    void aResumeCannotActivateAnIncompleteConfig() {
        assertThat(StreamStates.decide("inactive", "Paused.", "active", List.of("url"), false))
                .isEqualTo(new Change("inactive", INCOMPLETE_URL, false));
    }

    @Test
    void aResumeActivatesAPausedStreamClearsTheReasonAndRetriesNow() {
        assertThat(StreamStates.decide("inactive", "Paused.", "active", NONE, false))
                .isEqualTo(new Change("active", null, true));
        assertThat(StreamStates.decide("inactive", null, "active", NONE, true))
                .isEqualTo(new Change("active", null, true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"error", "invalid"})
    void aResumeOfAFailingStreamKeepsItsStateAndReasonButRetriesNow(String from) {
        assertThat(StreamStates.decide(from, BUSY, "active", NONE, false))
                .isEqualTo(new Change(from, BUSY, true));
    }

    @Test
    void aResumeOfAnActiveStreamChangesNothingButRetriesNow() {
        assertThat(StreamStates.decide("active", null, "active", NONE, false))
                .isEqualTo(new Change("active", null, true));
    }

    @Test
    void completingTheConfigOfAStreamPausedAsIncompleteActivatesIt() {
        assertThat(StreamStates.decide("inactive", INCOMPLETE_URL, null, NONE, true))
                .isEqualTo(new Change("active", null, true));
        // the reason is recognised by how it starts, whatever members it listed
        assertThat(StreamStates.decide("inactive", "Configuration incomplete: missing token, index.", null, NONE,
                true)).isEqualTo(new Change("active", null, true));
    }

    @Test
    void aStreamPausedByHandStaysPausedWhenItsConfigChanges() {
        assertThat(StreamStates.decide("inactive", "Paused.", null, NONE, true))
                .isEqualTo(new Change("inactive", "Paused.", true));
        assertThat(StreamStates.decide("inactive", null, null, NONE, false))
                .isEqualTo(new Change("inactive", null, false));
        assertThat(StreamStates.decide("inactive", "configuration incomplete: missing url.", null, NONE, true))
                .isEqualTo(new Change("inactive", "configuration incomplete: missing url.", true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"active", "error", "invalid"})
    void aChangedConfigKeepsTheStateAndReasonAndRetriesNow(String from) {
        assertThat(StreamStates.decide(from, BUSY, null, NONE, true)).isEqualTo(new Change(from, BUSY, true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"active", "error", "invalid", "inactive"})
    void aChangeOfNameOrFiltersOnlyLeavesTheStateAloneAndDoesNotRetry(String from) {
        assertThat(StreamStates.decide(from, BUSY, null, NONE, false)).isEqualTo(new Change(from, BUSY, false));
    }
}
