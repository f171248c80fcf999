package dev.auditstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.auditstream.receivers.DatadogIntake;
import dev.auditstream.support.PortalSession;
import dev.auditstream.support.RunningService;
import dev.auditstream.support.StreamApi;
import dev.auditstream.support.TestJson;

/**
 * One tenant cannot take what the others need: streams per organization are capped, and test sends (which hold an
 * HTTP worker for as long as the tenant's destination takes) are bounded in number at once and per organization and
 * minute, answered 429 with Retry-After beyond, and every slot comes back however its send ended.
 */
class TenantLimitsTest {

    private static final int MAX_STREAMS = 3;
    private static final int TESTS_AT_ONCE = 2;
    private static final int TESTS_PER_MINUTE = 3;

    private static RunningService service;
    private static DatadogIntake datadog;
    private static StreamApi streams;

    @BeforeAll
    static void start() throws Exception {
        datadog = DatadogIntake.start("dd-limits-00000000000");
        service = RunningService.start(RunningService.newDataDir("tenant-limits"), Map.of(
                "auditstream.allow-private-destinations", "true",
                "auditstream.datadog.intake-url", datadog.baseUrl(),
                "auditstream.streams.max-per-organization", String.valueOf(MAX_STREAMS),
                "auditstream.stream-tests.concurrency", String.valueOf(TESTS_AT_ONCE),
                "auditstream.stream-tests.per-minute", String.valueOf(TESTS_PER_MINUTE)));
        streams = new StreamApi(service);
    }

    @AfterAll
    static void stop() {
        service.close();
        datadog.close();
    }

    @Test
    void anOrganizationHasAtMostItsCapOfStreamsEvenWhenCreatingThemAtOnce() throws Exception {
        String org = service.createOrganization("Many streams");
        ExecutorService callers = Executors.newFixedThreadPool(2 * MAX_STREAMS);
        List<Future<HttpResponse<String>>> creates = new ArrayList<>();
        for (int i = 0; i < 2 * MAX_STREAMS; i++) {
            creates.add(callers.submit(() -> service.post("/log_streams", datadogStream(org))));
        }
        List<Integer> statuses = new ArrayList<>();
        for (Future<HttpResponse<String>> create : creates) {
            statuses.add(create.get().statusCode());
        }
        callers.shutdown();
        assertThat(statuses).filteredOn(status -> status == 201).hasSize(MAX_STREAMS);
        assertThat(statuses).filteredOn(status -> status == 422).hasSize(MAX_STREAMS);
        HttpResponse<String> refused = service.post("/log_streams", datadogStream(org));
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(TestJson.read(refused.body()).get("code").asText()).isEqualTo("stream_limit_reached");
        PortalSession portal = PortalSession.open(service, org);
        assertThat(portal.send("POST", "/portal/api/streams", datadogStream(org)).statusCode()).isEqualTo(422);
        assertThat(service.count("SELECT count(*) FROM log_stream WHERE organization_id = '" + org + "'"))
                .isEqualTo(MAX_STREAMS);

        String first = TestJson.read(service.get("/log_streams?organization_id=" + org).body()).at("/data/0/id").asText();
        assertThat(portal.send("DELETE", "/portal/api/streams/" + first, null).statusCode()).isEqualTo(204);
        assertThat(portal.send("POST", "/portal/api/streams", datadogStream(org)).statusCode()).isEqualTo(201);
        streams.create(datadogStream(service.createOrganization("Unaffected")));
    }

    @Test
    void anOrganizationSendsAFewTestEventsAMinute() throws Exception {
        String org = service.createOrganization("Tester");
        String stream = streams.create(datadogStream(org)).get("id").asText();
        for (int i = 0; i < TESTS_PER_MINUTE; i++) {
            assertThat(test(stream).statusCode()).isEqualTo(200);
        }
        HttpResponse<String> limited = test(stream);
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(TestJson.read(limited.body()).get("code").asText()).isEqualTo("rate_limited");
        assertThat(limited.headers().firstValue("Retry-After").map(Long::parseLong).orElseThrow()).isBetween(1L, 61L);
        HttpResponse<String> viaPortal = PortalSession.open(service, org).send("POST",
                "/portal/api/streams/" + stream + "/test", null);
        assertThat(viaPortal.statusCode()).isEqualTo(429);

        String other = streams.create(datadogStream(service.createOrganization("Other tester"))).get("id").asText();
        assertThat(test(other).statusCode()).isEqualTo(200);
    }

    @Test
    void onlyAFewTestEventsAreInFlightAndEverySlotComesBack() throws Exception {
        // sends that fail at the destination give their slots back: more of them than there are slots
        datadog.failNext(TESTS_AT_ONCE + 1, 500);
        for (int i = 0; i <= TESTS_AT_ONCE; i++) {
            HttpResponse<String> failed = test(newStream("Failing " + i));
            assertThat(failed.statusCode()).isEqualTo(200);
            assertThat(TestJson.read(failed.body()).get("success").asBoolean()).isFalse();
        }

        datadog.hangNext(TESTS_AT_ONCE, Duration.ofSeconds(2));
        int arrived = datadog.requestCount();
        List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
        for (int i = 0; i < TESTS_AT_ONCE; i++) {
            String stream = newStream("Slow " + i);
            slow.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return test(stream);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (datadog.requestCount() < arrived + TESTS_AT_ONCE && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        HttpResponse<String> busy = test(newStream("Waiting"));
        assertThat(busy.statusCode()).isEqualTo(429);
        JsonNode error = TestJson.read(busy.body());
        assertThat(error.get("code").asText()).isEqualTo("too_many_tests");
        assertThat(busy.headers().firstValue("Retry-After")).hasValue("1");

        for (CompletableFuture<HttpResponse<String>> send : slow) {
            assertThat(TestJson.read(send.get().body()).get("success").asBoolean()).isTrue();
        }
        assertThat(TestJson.read(test(newStream("After")).body()).get("success").asBoolean()).isTrue();
    }

    private static String newStream(String organizationName) throws Exception {
        return streams.create(datadogStream(service.createOrganization(organizationName))).get("id").asText();
    }

    private static HttpResponse<String> test(String streamId) throws Exception {
        return service.send(HttpRequest.newBuilder(service.uri("/log_streams/" + streamId + "/test"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
    }

    private static String datadogStream(String organizationId) {
        return "{\"organization_id\":\"" + organizationId + "\",\"type\":\"Datadog\",\"config\":{\"apiKey\":\"dd-limits-00000000000\"}}";
    }
}
