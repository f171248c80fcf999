package dev.auditstream.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;

/** Log stream calls and waits the stream tests share. */
public final class StreamApi {

    private final RunningService service;

    public StreamApi(RunningService service) {
        this.service = service;
    }

    public JsonNode create(String organizationId, String type, String configJson) throws Exception {
        return create("{\"organization_id\":\"" + organizationId + "\",\"type\":\"" + type + "\",\"config\":"
                + configJson + "}");
    }

    public JsonNode create(String body) throws Exception {
        HttpResponse<String> response = service.post("/log_streams", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return TestJson.read(response.body());
    }

    public JsonNode get(String streamId) throws Exception {
        HttpResponse<String> response = service.get("/log_streams/" + streamId);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return TestJson.read(response.body());
    }

    public JsonNode patch(String streamId, String body) throws Exception {
        HttpResponse<String> response = service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + streamId))
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return TestJson.read(response.body());
    }

    public List<JsonNode> deliveries(String streamId) throws Exception {
        List<JsonNode> list = new ArrayList<>();
        TestJson.read(service.get("/log_streams/" + streamId + "/deliveries?limit=100").body()).get("data")
                .forEach(list::add);
        return list;
    }

    /** Sends {@code count} events with actions {@code <prefix>.0 …}, one request each; returns their actions. */
    public List<String> send(String organizationId, String prefix, int count) throws Exception {
        List<String> actions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String action = prefix + "." + i;
            // the actor is named after the organization, so a receiver shared by several streams can tell them apart
            HttpResponse<String> response = service.post("/audit_logs/events",
                    TestJson.event(organizationId, action).replace("Jon Smith", organizationId));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            actions.add(action);
        }
        return actions;
    }

    /** Waits until the stream's JSON satisfies the condition; returns it. */
    public JsonNode awaitStream(String streamId, Predicate<JsonNode> condition, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode stream = get(streamId);
        while (!condition.test(stream)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("stream never reached the expected condition: " + stream);
            }
            Thread.sleep(50);
            stream = get(streamId);
        }
        return stream;
    }

    public static Predicate<JsonNode> inState(String state) {
        return stream -> stream.get("state").asText().equals(state);
    }

    public static List<String> actions(List<JsonNode> events) {
        return events.stream().map(e -> e.get("action").asText()).toList();
    }
}
