package dev.auditstream.it;

import static dev.auditstream.support.StreamApi.actions;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.auditstream.receivers.LoopbackReceiver;
import dev.auditstream.receivers.SplunkHec;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * A batch read from the log is bounded by the bytes of its events as well as by their number: a worker holds at
 * most that much. Here the bound is 3,000 bytes, far below Splunk's request limit, so each request carries at most
 * what one read returned; an event larger than the bound is read, and sent, alone.
 */
class BatchBytesTest {

    private static final long MAX_BATCH_BYTES = 3_000;

    @Test
    void aBatchHoldsAtMostItsBytesAndALargerEventComesAlone() throws Exception {
        try (SplunkHec splunk = SplunkHec.start("tok-bytes");
             RunningService service = RunningService.start(RunningService.newDataDir("batch-bytes"), Map.of(
                     "auditstream.allow-private-destinations", "true",
                     "auditstream.delivery.max-batch-bytes", String.valueOf(MAX_BATCH_BYTES)))) {
            StreamApi streams = new StreamApi(service);
            String org = service.createOrganization("Bytes Org");
            String stream = streams.create(org, "Splunk",
                    "{\"url\":\"" + splunk.baseUrl() + "\",\"token\":\"tok-bytes\"}").get("id").asText();
            // a backlog while paused: the resumed stream reads it in as few batches as the bounds allow
            streams.patch(stream, "{\"state\":\"inactive\"}");
            List<String> sent = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                sent.add(send(service, org, "medium." + i, 2));
            }
            sent.add(send(service, org, "large.0", 12));
            sent.add(send(service, org, "small.0", 0));
            streams.patch(stream, "{\"state\":\"active\"}");

            // the organization's own trail (the stream's creation and changes) is delivered with them
            RunningService.await("every event is delivered", () -> actions(splunk.events()).containsAll(sent));
            assertThat(actions(splunk.events()).stream().filter(sent::contains)).containsExactlyElementsOf(sent);

            for (List<String> request : requests(splunk)) {
                List<String> ours = request.stream().filter(sent::contains).toList();
                long bytes = 0;
                for (String action : ours) {
                    bytes += service.storedEvent(action).getBytes(StandardCharsets.UTF_8).length;
                }
                if (ours.size() > 1) {
                    assertThat(bytes).as("bytes of the events of %s", request).isLessThanOrEqualTo(MAX_BATCH_BYTES);
                }
                if (request.contains("large.0")) {
                    assertThat(request).containsExactly("large.0");
                }
            }
            // the events were read in several batches, not in one
            assertThat(requests(splunk).stream().filter(request -> request.stream().anyMatch(sent::contains)))
                    .hasSizeGreaterThan(3);
        }
    }

    /** One event with this many metadata values of 450 characters (about 460 bytes each stored). */
    private static String send(RunningService service, String org, String action, int values) throws Exception {
        StringBuilder metadata = new StringBuilder("\"metadata\":{");
        for (int i = 0; i < values; i++) {
            metadata.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"").append("x".repeat(450))
                    .append('"');
        }
        String event = TestJson.event(org, action).replace("\"occurred_at\":", metadata + "},\"occurred_at\":");
        var response = service.post("/audit_logs/events", event);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return action;
    }

    /** The actions of the events of each request Splunk answered 200, in arrival order. */
    private static List<List<String>> requests(SplunkHec splunk) throws Exception {
        List<List<String>> requests = new ArrayList<>();
        for (LoopbackReceiver.Recorded request : splunk.requests()) {
            if (request.status() != 200 || !request.path().endsWith("/services/collector/event")) {
                continue;
            }
            List<String> actions = new ArrayList<>();
            for (String line : request.bodyText().split("\n")) {
                if (!line.isBlank()) {
                    JsonNode entry = TestJson.MAPPER.readTree(line);
                    actions.add(entry.path("event").path("action").asText());
                }
            }
            requests.add(actions);
        }
        return requests;
    }
}
