package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.inState;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.BodyPart;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.WebhookReceiver;
import dev.auditstream.support.PortalSession;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * Stream health alerts end to end: a real SMTP server (GreenMail) gets the contacts' emails, and a loopback
 * receiver checking Standard Webhooks signatures stands in for the operator's webhook.
 */
class StreamAlertsTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String OPERATOR_SECRET = "whsec_" + Base64.getEncoder().encodeToString(
            "operator-webhook-secret-32-bytes".getBytes());
    private static final String STREAM_NAME = "SIEM <prod> & \"main\"";

    private static GreenMail smtp;
    private static WebhookReceiver operator;
    private static RunningService service;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        smtp = new GreenMail(ServerSetupTest.SMTP.dynamicPort());
        smtp.start();
        operator = WebhookReceiver.builder(OPERATOR_SECRET).standardWebhookEvents().start();
        service = RunningService.start(RunningService.newDataDir("alerts"), Map.ofEntries(
                Map.entry("auditstream.allow-private-destinations", "true"),
                Map.entry("auditstream.audit-trail.enabled", "true"),
                Map.entry("auditstream.smtp.url", "smtp://127.0.0.1:" + smtp.getSmtp().getPort()),
                Map.entry("auditstream.alerts.email-from", "alerts@auditstream.test"),
                Map.entry("auditstream.alerts.operator-webhook-url", operator.baseUrl() + "/operator"),
                Map.entry("auditstream.alerts.operator-webhook-secret", OPERATOR_SECRET),
                Map.entry("auditstream.alerts.poll-interval", "PT0.2S"),
                Map.entry("auditstream.alerts.error-after", "PT2S"),
                Map.entry("auditstream.alerts.error-check-interval", "PT0.5S"),
                Map.entry("auditstream.delivery.poll-interval", "100"),
                Map.entry("auditstream.delivery.backoff-base", "PT0.2S"),
                Map.entry("auditstream.delivery.backoff-max", "PT1S"),
                Map.entry("auditstream.delivery.invalid-probe-interval", "PT30S")));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() {
        service.close();
        operator.close();
        smtp.stop();
    }

    @Test
    void contactsHearOnceWhenAStreamTurnsInvalidAndOnceWhenItRecovers() throws Exception {
        String org = service.createOrganization("Acme <Alerts>");
        setContacts(org, "[\"it@invalid.test\", \"secops@invalid.test\"]");
        JsonNode created = streams.create("{\"organization_id\":\"" + org + "\",\"type\":\"GenericHttps\",\"name\":"
                + TestJson.quote(STREAM_NAME) + ",\"config\":{\"url\":\"http://127.0.0.1:1/\"}}");
        String id = created.get("id").asText();
        try (WebhookReceiver destination = pointedAtReceiver(created, r -> r.failAlways(403))) {
            streams.send(org, "refused", 1);
            streams.awaitStream(id, inState("invalid"), WAIT);

            MimeMessage invalid = awaitMails("invalid.test", 1).get(0);
            assertThat(invalid.getFrom()[0].toString()).isEqualTo("alerts@auditstream.test");
            assertThat(invalid.getRecipients(Message.RecipientType.TO)).extracting(Object::toString)
                    .containsExactly("it@invalid.test", "secops@invalid.test");
            assertThat(invalid.getSubject()).contains(STREAM_NAME).contains("Acme <Alerts>").contains("stopped")
                    .doesNotContain("\r", "\n");
            Map<String, String> parts = parts(invalid);
            assertThat(parts.get("text/plain")).contains(STREAM_NAME).contains("(GenericHttps)")
                    .contains("Acme <Alerts>").contains("Reason: ").contains("403").contains(id)
                    .contains(service.baseUrl() + "/portal/log-streams");
            assertThat(parts.get("text/html")).contains("SIEM &lt;prod&gt; &amp; &quot;main&quot;")
                    .contains("Acme &lt;Alerts&gt;").doesNotContain(STREAM_NAME)
                    .contains("href=\"" + service.baseUrl() + "/portal/log-streams\"");

            // the operator's webhook hears of it too, signed (the receiver accepts only valid signatures)
            JsonNode changed = awaitOperatorEvent(e -> e.get("type").asText().equals("log_stream.state_changed")
                    && e.at("/data/stream_id").asText().equals(id) && e.at("/data/to").asText().equals("invalid"));
            assertThat(changed.at("/data/organization_id").asText()).isEqualTo(org);
            assertThat(changed.at("/data/stream_name").asText()).isEqualTo(STREAM_NAME);
            assertThat(changed.at("/data/stream_type").asText()).isEqualTo("GenericHttps");
            assertThat(changed.at("/data/reason").asText()).contains("403");
            assertThat(operator.requests()).allSatisfy(r -> assertThat(r.header("webhook-id")).startsWith("msg_alert_"));

            // fixed: the stream delivers again, and the contacts are told
            destination.recover();
            streams.patch(id, "{\"config\":{\"url\":\"" + destination.baseUrl() + "\"}}");
            streams.awaitStream(id, inState("active"), WAIT);
            MimeMessage recovered = awaitMails("invalid.test", 2).get(1);
            assertThat(recovered.getSubject()).contains(STREAM_NAME).contains("delivers again");
            assertThat(parts(recovered).get("text/plain")).doesNotContain("Reason: ");

            // invalid again within the repeat window: the operator hears of it, the contacts do not
            destination.failAlways(403);
            streams.send(org, "refused-again", 1);
            streams.awaitStream(id, inState("invalid"), WAIT);
            awaitOperatorEvent(e -> e.at("/data/stream_id").asText().equals(id) && e.at("/data/from").asText()
                    .equals("active") && e.at("/data/to").asText().equals("invalid")
                    && !e.equals(changed));
            awaitNoPendingAlerts();
            assertThat(mails("invalid.test")).hasSize(2);
            assertThat(service.count("SELECT count(*) FROM alert WHERE stream_id = '" + id
                    + "' AND channel = 'email'")).isEqualTo(2);
        }
    }

    @Test
    void aStreamInErrorPastTheThresholdIsReportedOnce() throws Exception {
        String org = service.createOrganization("Flaky Org");
        setContacts(org, "[\"oncall@error.test\"]");
        JsonNode created = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\"}");
        String id = created.get("id").asText();
        try (WebhookReceiver destination = pointedAtReceiver(created, r -> r.failAlways(503))) {
            streams.send(org, "unavailable", 1);
            streams.awaitStream(id, inState("error"), WAIT);

            MimeMessage error = awaitMails("error.test", 1).get(0);
            assertThat(error.getSubject()).contains("has been failing since");
            assertThat(parts(error).get("text/plain")).contains("503");
            awaitNoPendingAlerts();
            assertThat(service.count("SELECT count(*) FROM alert WHERE stream_id = '" + id
                    + "' AND channel = 'email' AND kind = 'error'")).isEqualTo(1);
        }
    }

    @Test
    void aDeadLetterIsReportedToTheContactsAndTheOperator() throws Exception {
        String org = service.createOrganization("Picky Org");
        setContacts(org, "[\"soc@dead.test\"]");
        JsonNode created = streams.create(org, "GenericHttps", "{\"url\":\"http://127.0.0.1:1/\"}");
        String id = created.get("id").asText();
        try (WebhookReceiver destination = pointedAtReceiver(created, r -> r.rejectEventsWithAction("poison.0"))) {
            streams.send(org, "poison", 1);
            streams.send(org, "fine", 2);

            JsonNode deadLettered = awaitOperatorEvent(e -> e.get("type").asText().equals("log_stream.dead_lettered")
                    && e.at("/data/stream_id").asText().equals(id));
            String eventId = deadLettered.at("/data/event_id").asText();
            assertThat(streams.deliveries(id)).anyMatch(d -> d.get("outcome").asText().equals("dead_lettered")
                    && d.get("event_id").asText().equals(eventId));
            MimeMessage mail = awaitMails("dead.test", 1).get(0);
            assertThat(mail.getSubject()).contains("the destination refused an event");
            assertThat(parts(mail).get("text/plain")).contains(eventId);
        }
    }

    @Test
    void anExportThatCannotBeWrittenIsReportedToTheOperator() throws Exception {
        String org = service.createOrganization("Export Org");
        streams.send(org, "exported", 1);
        service.execute("""
                CREATE FUNCTION refuse_export_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'export chunks refused for the test'; END $$""");
        service.execute("CREATE TRIGGER refuse_export_chunks BEFORE INSERT ON audit_log_export_chunk "
                + "FOR EACH ROW EXECUTE FUNCTION refuse_export_chunks()");
        try {
            var created = service.post("/audit_logs/exports", "{\"organization_id\":\"" + org
                    + "\",\"range_start\":\"2000-01-01T00:00:00Z\",\"range_end\":\"2100-01-01T00:00:00Z\"}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            String exportId = TestJson.read(created.body()).get("id").asText();

            JsonNode failed = awaitOperatorEvent(e -> e.get("type").asText().equals("export.failed")
                    && e.at("/data/export_id").asText().equals(exportId));
            assertThat(failed.at("/data/organization_id").asText()).isEqualTo(org);
            assertThat(TestJson.read(service.get("/audit_logs/exports/" + exportId).body()).get("state").asText())
                    .isEqualTo("error");
        } finally {
            service.execute("DROP TRIGGER refuse_export_chunks ON audit_log_export_chunk");
            service.execute("DROP FUNCTION refuse_export_chunks()");
        }
    }

    @Test
    void badContactsAreRefusedWithTheirFieldAndChangeNothing() throws Exception {
        String org = service.createOrganization("Strict Org");
        setContacts(org, "[\"admin@strict.test\"]");
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("{\"emails\":[\"ok@strict.test\",\"not an address\"]}", "emails[1]");
        refused.put("{\"emails\":[\"a@strict.test\\r\\nBcc: spy@evil.test\"]}", "emails[0]");
        refused.put("{\"emails\":[\"Admin <admin@strict.test>\"]}", "emails[0]");
        refused.put("{\"emails\":[\"a@strict.test\",\"A@STRICT.test\"]}", "emails[1]");
        refused.put("{\"emails\":[1]}", "emails[0]");
        refused.put("{\"emails\":\"admin@strict.test\"}", "emails");
        refused.put("{}", "emails");
        refused.put("{\"emails\":[],\"extra\":true}", "extra");
        StringBuilder eleven = new StringBuilder("{\"emails\":[");
        for (int i = 0; i < 11; i++) {
            eleven.append(i == 0 ? "" : ",").append("\"a").append(i).append("@strict.test\"");
        }
        refused.put(eleven.append("]}").toString(), "emails");
        for (Map.Entry<String, String> bad : refused.entrySet()) {
            HttpResponse<String> answer = service.put("/organizations/" + org + "/alert_contacts", bad.getKey());
            assertThat(answer.statusCode()).as(bad.getKey()).isEqualTo(422);
            JsonNode error = TestJson.read(answer.body());
            assertThat(error.get("code").asText()).isEqualTo("validation_failed");
            assertThat(error.get("errors")).extracting(e -> e.get("field").asText()).as(bad.getKey())
                    .contains(bad.getValue());
        }
        assertThat(contacts(org)).containsExactly("admin@strict.test");
        assertThat(trail(org)).hasSize(1);
    }

    @Test
    void aChangeOfContactsIsInTheOrganizationsTrailWithoutTheAddresses() throws Exception {
        String org = service.createOrganization("Trail Org");
        HttpResponse<String> set = service.put("/organizations/" + org + "/alert_contacts",
                "{\"emails\":[\"first@trail.test\",\"second@trail.test\"]}");
        assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
        assertThat(TestJson.read(set.body())).isEqualTo(TestJson.read("{\"object\":\"alert_contacts\","
                + "\"organization_id\":\"" + org + "\",\"emails\":[\"first@trail.test\",\"second@trail.test\"]}"));
        setContacts(org, "[\"first@trail.test\",\"second@trail.test\"]"); // the same again: nothing to record

        List<JsonNode> events = trail(org);
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.at("/targets/0/type").asText()).isEqualTo("organization");
        assertThat(event.at("/targets/0/id").asText()).isEqualTo(org);
        assertThat(event.get("metadata")).isEqualTo(TestJson.read("{\"changed\":\"emails\"}"));
        assertThat(event.toString()).doesNotContain("trail.test");
        assertThat(service.get("/organizations/org_unknown/alert_contacts").statusCode()).isEqualTo(404);
    }

    @Test
    void thePortalReachesOnlyItsOwnOrganizationsContacts() throws Exception {
        String org = service.createOrganization("Portal Contacts Org");
        String other = service.createOrganization("Other Contacts Org");
        setContacts(other, "[\"keep@other.test\"]");
        PortalSession portal = PortalSession.open(service, org);

        HttpResponse<String> put = portal.send("PUT", "/portal/api/alert_contacts?organization_id=" + other + "&id="
                + other, "{\"emails\":[\"admin@portal.test\"]}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(TestJson.read(put.body()).get("organization_id").asText()).isEqualTo(org);
        JsonNode read = TestJson.read(portal.send("GET", "/portal/api/alert_contacts?organization_id=" + other,
                null).body());
        assertThat(read.get("organization_id").asText()).isEqualTo(org);
        assertThat(contacts(org)).containsExactly("admin@portal.test");
        assertThat(contacts(other)).containsExactly("keep@other.test");
        assertThat(trail(org).get(0).at("/actor/type").asText()).isEqualTo("portal_session");

        // the API scoped to one organization does not reach another's either
        assertThat(service.get("/organizations/" + other + "/alert_contacts?organization_id=" + org).statusCode())
                .isEqualTo(404);
        assertThat(service.put("/organizations/" + other + "/alert_contacts?organization_id=" + org,
                "{\"emails\":[]}").statusCode()).isEqualTo(404);
        assertThat(contacts(other)).containsExactly("keep@other.test");
    }

    /**
     * Points the stream (created with an unreachable URL) at a new receiver that checks its signatures, which first
     * behaves as {@code behaviour} sets it up: the stream's first delivery already meets it.
     */
    private static WebhookReceiver pointedAtReceiver(JsonNode created, Consumer<WebhookReceiver> behaviour)
            throws Exception {
        WebhookReceiver destination = WebhookReceiver.start(created.at("/config/signingSecret").asText());
        try {
            behaviour.accept(destination);
            streams.patch(created.get("id").asText(), "{\"config\":{\"url\":\"" + destination.baseUrl() + "\"}}");
            return destination;
        } catch (Exception | AssertionError e) {
            destination.close();
            throw e;
        }
    }

    private static void setContacts(String org, String emails) throws Exception {
        HttpResponse<String> answer = service.put("/organizations/" + org + "/alert_contacts",
                "{\"emails\":" + emails + "}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }

    private static List<String> contacts(String org) throws Exception {
        HttpResponse<String> answer = service.get("/organizations/" + org + "/alert_contacts");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        List<String> emails = new ArrayList<>();
        TestJson.read(answer.body()).get("emails").forEach(e -> emails.add(e.asText()));
        return emails;
    }

    private static List<JsonNode> trail(String org) throws Exception {
        JsonNode page = TestJson.read(service.get("/audit_logs/events?organization_id=" + org
                + "&actions=organization.alert_contacts_updated&limit=100").body());
        List<JsonNode> events = new ArrayList<>();
        page.get("data").forEach(events::add);
        return events;
    }

    /** The distinct messages received for addresses at the domain (GreenMail keeps a copy per recipient). */
    private static List<MimeMessage> mails(String domain) throws Exception {
        Map<String, MimeMessage> byId = new LinkedHashMap<>();
        for (MimeMessage message : smtp.getReceivedMessagesForDomain(domain)) {
            byId.putIfAbsent(message.getMessageID(), message);
        }
        return new ArrayList<>(byId.values());
    }

    private static List<MimeMessage> awaitMails(String domain, int count) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<MimeMessage> mails = mails(domain);
        while (mails.size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + mails.size() + " emails to " + domain);
            }
            Thread.sleep(100);
            mails = mails(domain);
        }
        return mails;
    }

    private static JsonNode awaitOperatorEvent(Predicate<JsonNode> wanted) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode event : operator.events()) {
                if (wanted.test(event)) {
                    return event;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the operator's webhook got no such event: " + operator.events());
    }

    private static void awaitNoPendingAlerts() throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (service.count("SELECT count(*) FROM alert WHERE state = 'pending'") > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("alerts still pending");
            }
            Thread.sleep(100);
        }
    }

    /** Content type (without parameters) to text, of a multipart/alternative message. */
    private static Map<String, String> parts(MimeMessage message) throws Exception {
        assertThat(message.getContentType()).startsWith("multipart/alternative");
        MimeMultipart multipart = (MimeMultipart) message.getContent();
        Map<String, String> parts = new LinkedHashMap<>();
        for (int i = 0; i < multipart.getCount(); i++) {
            BodyPart part = multipart.getBodyPart(i);
            parts.put(part.getContentType().split(";")[0].trim().toLowerCase(), (String) part.getContent());
        }
        return parts;
    }
}
