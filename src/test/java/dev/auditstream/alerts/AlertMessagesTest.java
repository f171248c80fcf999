package dev.auditstream.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import dev.auditstream.api.Json;

/** Alert emails: customer strings stay text in every part, and one line in the subject. */
class AlertMessagesTest {

    private static final String PORTAL = "https://audit.example.com/portal/log-streams";

    @Test
    void aSubjectIsOneLineWhateverTheStreamIsCalled() {
        AlertMessages.Mail mail = AlertMessages.compose("invalid",
                data("prod\r\nBcc: spy@evil.test\u2028x", "Acme\nCorp", "HTTP 403"), PORTAL);
        assertThat(mail.subject()).doesNotContain("\r", "\n", "\u2028")
                .isEqualTo("Audit log stream \"prod  Bcc: spy@evil.test x\" of Acme Corp stopped: the destination "
                        + "refused it");
    }

    @Test
    void aLongSubjectIsCutWithoutSplittingACharacter() {
        String name = "😀".repeat(300);
        String subject = AlertMessages.compose("recovered", data(name, "Acme", null), PORTAL).subject();
        assertThat(subject.codePointCount(0, subject.length())).isEqualTo(AlertMessages.MAX_SUBJECT);
        assertThat(subject).endsWith("😀…");
    }

    @Test
    void theHtmlPartEscapesEveryCustomerString() {
        AlertMessages.Mail mail = AlertMessages.compose("invalid",
                data("<script>alert(1)</script>", "O'Brien & \"Sons\"", "<b>denied</b>"), PORTAL);
        assertThat(mail.html()).doesNotContain("<script>", "<b>denied")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                .contains("O&#39;Brien &amp; &quot;Sons&quot;")
                .contains("<code>&lt;b&gt;denied&lt;/b&gt;</code>")
                .contains("<a href=\"" + PORTAL + "\">");
        assertThat(mail.text()).contains("<script>alert(1)</script>").contains("Reason: <b>denied</b>")
                .contains(PORTAL);
    }

    @Test
    void eachKindSaysWhatHappened() {
        assertThat(AlertMessages.compose("error", data("s", "o", "HTTP 503"), PORTAL).subject())
                .endsWith("has been failing since 2026-01-02T03:04:05.000Z");
        assertThat(AlertMessages.compose("dead_lettered", data("s", "o", "HTTP 400"), PORTAL).text())
                .contains("(event evt_1)");
        assertThat(AlertMessages.compose("recovered", data("s", "o", "ignored"), PORTAL).text())
                .doesNotContain("Reason").contains("delivers again");
        assertThatThrownBy(() -> AlertMessages.compose("unknown", data("s", "o", null), PORTAL))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static JsonNode data(String stream, String organization, String reason) {
        ObjectNode data = Json.MAPPER.createObjectNode().put("organization_id", "org_1")
                .put("organization_name", organization).put("stream_id", "als_1").put("stream_name", stream)
                .put("stream_type", "GenericHttps").put("reason", reason).put("at", "2026-01-02T03:04:05.000Z")
                .put("event_id", "evt_1");
        return data;
    }
}
