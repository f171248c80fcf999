package dev.auditstream.destinations;

import static dev.auditstream.outbound.OutboundRequest.header;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.outbound.OutboundRequest;

/**
 * Datadog's HTTP log intake (v2): a gzipped JSON array of {@code {"message": <event>, "ddsource", "service"}},
 * at most 1,000 entries and 5 MB uncompressed per request, authenticated by {@code DD-API-KEY}.
 */
public final class Datadog implements HttpDestination {

    /** Intake base URL of each Datadog site. */
    static final Map<String, String> SITES = Map.of(
            "US1", "https://http-intake.logs.datadoghq.com",
            "US3", "https://http-intake.logs.us3.datadoghq.com",
            "US5", "https://http-intake.logs.us5.datadoghq.com",
            "EU1", "https://http-intake.logs.datadoghq.eu",
            "AP1", "https://http-intake.logs.ap1.datadoghq.com",
            "AP2", "https://http-intake.logs.ap2.datadoghq.com",
            "US1-FED", "https://http-intake.logs.ddog-gov.com");
    private static final int MAX_ENTRIES = 1000;
    private static final long MAX_BYTES = 5L * 1024 * 1024;

    private final String intakeOverride;

    /** @param intakeOverride replaces every site's intake base URL (proxies, tests); null for the real sites */
    public Datadog(String intakeOverride) {
        this.intakeOverride = intakeOverride;
    }

    @Override
    public String type() {
        return "Datadog";
    }

    @Override
    public List<String> secretPointers() {
        return List.of("/apiKey");
    }

    @Override
    public List<String> check(ObjectNode config, ConfigChecks checks) {
        checks.unknownMembers(config, Set.of("apiKey", "region", "source", "service"), "");
        List<String> missing = new ArrayList<>();
        if (checks.headerValue(config, "apiKey", "apiKey") == null) {
            missing.add("apiKey");
        }
        checks.oneOf(config, "region", "region", SITES.keySet());
        checks.string(config, "source", "source");
        checks.string(config, "service", "service");
        return missing;
    }

    @Override
    public boolean preparesAhead() {
        return true;
    }

    @Override
    public Outbound prepare(DeliveryTarget target, List<StoredEvent> events) {
        String base = intakeOverride != null ? intakeOverride : SITES.get(target.text("region", "US1"));
        String tail = ",\"ddsource\":" + Payloads.quote(target.text("source", "auditstream"))
                + ",\"service\":" + Payloads.quote(target.text("service", "audit-logs")) + "}";
        Entries entries = Entries.join(events, e -> "{\"message\":" + e.json() + tail, "[", ",", "]",
                MAX_ENTRIES, MAX_BYTES);
        return new Outbound(OutboundRequest.post(URI.create(base + "/api/v2/logs"), List.of(
                        header("Content-Type", "application/json"),
                        header("Content-Encoding", "gzip"),
                        header("DD-API-KEY", target.text("apiKey", ""))),
                Payloads.gzip(entries.body())), entries.count());
    }
}
