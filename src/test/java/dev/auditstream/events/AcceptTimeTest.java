package dev.auditstream.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.Ulid;

import dev.auditstream.support.TestJson;

/**
 * An accepted event's id carries its accept time: object keys and timestamps built from the one and from the other
 * name the same millisecond (two clock readings a millisecond apart once put them on different ones).
 */
class AcceptTimeTest {

    @Test
    void theAcceptTimeIsTheTimeOfTheEventsId() {
        EventValidator validator = new EventValidator();
        byte[] body = TestJson.event("org_1", "user.signed_in").getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 20_000; i++) {
            IncomingEvent event = validator.validate(body);
            assertThat(event.acceptedAt()).as(event.id()).isEqualTo(Ulid.from(event.id()).getInstant());
        }
    }
}
