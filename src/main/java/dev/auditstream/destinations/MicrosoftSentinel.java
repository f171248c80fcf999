package dev.auditstream.destinations;

import static dev.auditstream.outbound.OutboundRequest.header;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.outbound.OutboundRequest;

/**
 * Microsoft Sentinel through Azure Monitor's Logs Ingestion API: an Entra app's client-credentials token, then a
 * gzipped JSON array of flat records ({@link #COLUMNS}) posted to the data collection rule's stream, at most 1 MB of
 * JSON per call as the API allows.
 */
public final class MicrosoftSentinel implements HttpDestination {

    static final String API_VERSION = "2023-01-01";
    /** The Logs Ingestion API's limit per call (1 MB, read as 10^6 bytes to stay clear of it). */
    static final long MAX_BYTES = 1_000_000;
    private static final int MAX_ENTRIES = 1000;

    /** The custom table's columns, in the order records carry them, with their Log Analytics types. */
    static final Map<String, String> COLUMNS = orderedColumns();

    /** Each cloud's Entra authority and Azure Monitor's token scope there. */
    private record Cloud(String authority, String scope) {
    }

    private static final Map<String, Cloud> CLOUDS = Map.of(
            "AzurePublic", new Cloud("https://login.microsoftonline.com", "https://monitor.azure.com/.default"),
            "AzureUSGovernment", new Cloud("https://login.microsoftonline.us", "https://monitor.azure.us/.default"),
            "AzureChina", new Cloud("https://login.chinacloudapi.cn", "https://monitor.azure.cn/.default"));

    private static final Pattern GUID = Pattern.compile("[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}");
    /** A directory (tenant) ID, or one of its verified domain names: a path segment of the token URL. */
    private static final Pattern TENANT = Pattern.compile("[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
            + "|[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\\.)+[A-Za-z]{2,63}");
    private static final Pattern DCR_ID = Pattern.compile("dcr-[0-9a-f]{32}");
    private static final Pattern STREAM = Pattern.compile("Custom-[A-Za-z0-9_]{1,100}");

    private final ClientCredentials tokens;
    private final String authorityOverride;

    /** @param authorityOverride the operator's Entra authority for every cloud (sovereign proxies, tests), or null */
    public MicrosoftSentinel(ClientCredentials tokens, String authorityOverride) {
        this.tokens = tokens;
        this.authorityOverride = authorityOverride == null ? null : authorityOverride.replaceFirst("/+$", "");
    }

    @Override
    public String type() {
        return "MicrosoftSentinel";
    }

    @Override
    public List<String> secretPointers() {
        return List.of("/clientSecret");
    }

    /** The token made with the secret goes to the data collection endpoint. */
    @Override
    public String urlMember() {
        return "dataCollectionEndpoint";
    }

    @Override
    public List<String> credentialsSentToUrl() {
        return secretPointers();
    }

    @Override
    public List<String> check(ObjectNode config, ConfigChecks checks) {
        checks.unknownMembers(config, Set.of("tenantId", "clientId", "clientSecret", "dataCollectionEndpoint",
                "dcrImmutableId", "streamName", "cloud"), "");
        List<String> missing = new ArrayList<>();
        given(missing, "tenantId", checks.matching(config, "tenantId", "tenantId", TENANT,
                "a directory (tenant) ID or one of its domain names"));
        given(missing, "clientId", checks.matching(config, "clientId", "clientId", GUID,
                "the app registration's application (client) ID, a GUID"));
        given(missing, "clientSecret", checks.string(config, "clientSecret", "clientSecret"));
        String endpoint = checks.url(config, "dataCollectionEndpoint");
        if (endpoint != null && hasQuery(endpoint)) {
            checks.add("dataCollectionEndpoint", "invalid_url",
                    "config.dataCollectionEndpoint is the endpoint's logs ingestion URL, without a query.");
        }
        given(missing, "dataCollectionEndpoint", endpoint);
        given(missing, "dcrImmutableId", checks.matching(config, "dcrImmutableId", "dcrImmutableId", DCR_ID,
                "the data collection rule's immutable ID (dcr- and 32 hex digits)"));
        given(missing, "streamName", checks.matching(config, "streamName", "streamName", STREAM,
                "the rule's input stream, Custom- and letters, digits or underscores"));
        checks.oneOf(config, "cloud", "cloud", CLOUDS.keySet());
        return missing;
    }

    /** A query or fragment (the URL check itself reports a URL that does not parse). */
    private static boolean hasQuery(String url) {
        try {
            URI uri = new URI(url);
            return uri.getRawQuery() != null || uri.getRawFragment() != null;
        } catch (URISyntaxException notAUrl) {
            return false;
        }
    }

    private static void given(List<String> missing, String member, String value) {
        if (value == null) {
            missing.add(member);
        }
    }

    @Override
    public Outbound prepare(DeliveryTarget target, List<StoredEvent> events) throws IOException, DestinationFailure {
        Entries entries = Entries.join(events, e -> record(target.organizationId(), e), "[", ",", "]",
                MAX_ENTRIES, MAX_BYTES);
        String token = tokens.token(grant(target));
        URI uri = URI.create(target.text("dataCollectionEndpoint", "").replaceFirst("/+$", "")
                + "/dataCollectionRules/" + target.text("dcrImmutableId", "")
                + "/streams/" + target.text("streamName", "") + "?api-version=" + API_VERSION);
        return new Outbound(OutboundRequest.post(uri, List.of(
                        header("Content-Type", "application/json"),
                        header("Content-Encoding", "gzip"),
                        header("Authorization", "Bearer " + token)),
                Payloads.gzip(entries.body())), entries.count());
    }

    private ClientCredentials.Grant grant(DeliveryTarget target) {
        Cloud cloud = CLOUDS.getOrDefault(target.text("cloud", "AzurePublic"), CLOUDS.get("AzurePublic"));
        String authority = authorityOverride != null ? authorityOverride : cloud.authority();
        return new ClientCredentials.Grant(
                URI.create(authority + "/" + target.text("tenantId", "") + "/oauth2/v2.0/token"),
                target.text("clientId", ""), target.text("clientSecret", ""), Map.of("scope", cloud.scope()));
    }

    /** One event as a row of the custom table: {@link #COLUMNS}, absent values null. */
    static String record(String organizationId, StoredEvent stored) {
        JsonNode event = Json.object(stored.json().getBytes(StandardCharsets.UTF_8));
        ObjectNode row = Json.MAPPER.createObjectNode();
        row.put("TimeGenerated", Timestamps.iso(stored.occurredAt()));
        row.put("EventId", stored.id());
        row.put("OrganizationId", organizationId);
        row.put("Action", stored.action());
        row.set("ActorId", valueOrNull(event.at("/actor/id")));
        row.set("ActorType", valueOrNull(event.at("/actor/type")));
        row.set("ActorName", valueOrNull(event.at("/actor/name")));
        row.set("Targets", valueOrNull(event.path("targets")));
        row.set("Location", valueOrNull(event.at("/context/location")));
        row.set("UserAgent", valueOrNull(event.at("/context/user_agent")));
        row.set("Metadata", valueOrNull(event.path("metadata")));
        try {
            return Json.MAPPER.writeValueAsString(row);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode valueOrNull(JsonNode node) {
        return node.isMissingNode() ? Json.MAPPER.nullNode() : node;
    }

    /**
     * Azure Monitor's answers are {@code {"error": {"code", "message"}}}. Refused tokens and missing role
     * assignments are the customer's to fix, with what to do; a rule or stream that does not exist too.
     */
    @Override
    public Failure classify(DeliveryTarget target, int status, String body, long retryAfterSeconds) {
        // a refused token is dropped and a new one asked for once, as for OAuth2 webhooks
        if (status == 401 && !tokens.refused(grant(target))) {
            return new Failure(Failure.Kind.RETRY, status, "Azure Monitor refused the app's token; a new one is"
                    + " requested.", 0, 0);
        }
        return classify(status, body, retryAfterSeconds);
    }

    @Override
    public Failure classify(int status, String body, long retryAfterSeconds) {
        JsonNode error = parse(body).path("error");
        String code = error.path("code").asText("");
        String said = "HTTP " + status + (code.isEmpty() ? "" : " " + code) + ": "
                + ConfigChecks.abbreviate(error.path("message").asText(body));
        return switch (status) {
            case 401 -> new Failure(Failure.Kind.INVALID, status, "Azure Monitor refused a new token of the app (" + said
                    + "). Check that cloud matches the data collection endpoint's cloud and that the app registration"
                    + " belongs to tenantId.", 0, 0);
            case 403 -> new Failure(Failure.Kind.INVALID, status, "The app registration may not send to this data"
                    + " collection rule (" + said + "). Assign it the 'Monitoring Metrics Publisher' role on the rule"
                    + " (assignments can take up to 30 minutes to apply).", 0, 0);
            case 404 -> new Failure(Failure.Kind.INVALID, status, "No such data collection rule or stream at this"
                    + " endpoint (" + said + "). Check dcrImmutableId, streamName and dataCollectionEndpoint.", 0, 0);
            default -> status == 400 && (code.contains("Stream") || code.contains("Dcr")
                    || code.contains("DataCollectionRule"))
                    ? new Failure(Failure.Kind.INVALID, status, "The data collection rule refused the stream ("
                            + said + "). Check streamName against the rule's stream declarations.", 0, 0)
                    : Failure.ofStatus(status, said, retryAfterSeconds);
        };
    }

    private static JsonNode parse(String body) {
        try {
            JsonNode node = body == null || body.isBlank() ? null : Json.MAPPER.readTree(body);
            return node == null ? Json.MAPPER.createObjectNode() : node;
        } catch (IOException notJson) {
            return Json.MAPPER.createObjectNode();
        }
    }

    /**
     * What the customer creates in Azure for this stream: the custom table (Log Analytics tables API body) and the
     * data collection rule whose stream declaration matches the records, with a pass-through transform.
     */
    @Override
    public ObjectNode setup(JsonNode config) {
        String stream = config.path("streamName").asText("Custom-AuditStream");
        String table = stream.substring(stream.indexOf('-') + 1);
        table = table.endsWith("_CL") ? table : table + "_CL";
        ObjectNode setup = Json.MAPPER.createObjectNode();
        setup.put("table_name", table);
        ObjectNode schema = setup.putObject("table").putObject("properties").putObject("schema");
        schema.put("name", table);
        schema.set("columns", columns());
        ObjectNode dcr = setup.putObject("data_collection_rule");
        dcr.put("location", "<region of the workspace and the data collection endpoint>");
        dcr.put("kind", "Direct");
        ObjectNode properties = dcr.putObject("properties");
        properties.put("dataCollectionEndpointId", "<resource ID of the data collection endpoint>");
        properties.putObject("streamDeclarations").putObject(stream).set("columns", columns());
        properties.putObject("destinations").putArray("logAnalytics").addObject()
                .put("workspaceResourceId", "<resource ID of the Log Analytics workspace>")
                .put("name", "workspace");
        ObjectNode flow = properties.putArray("dataFlows").addObject();
        flow.putArray("streams").add(stream);
        flow.putArray("destinations").add("workspace");
        flow.put("transformKql", "source");
        flow.put("outputStream", "Custom-" + table);
        setup.put("role", "Monitoring Metrics Publisher");
        return setup;
    }

    private static ArrayNode columns() {
        ArrayNode columns = Json.MAPPER.createArrayNode();
        COLUMNS.forEach((name, type) -> columns.addObject().put("name", name).put("type", type));
        return columns;
    }

    private static Map<String, String> orderedColumns() {
        Map<String, String> columns = new LinkedHashMap<>();
        columns.put("TimeGenerated", "datetime");
        columns.put("EventId", "string");
        columns.put("OrganizationId", "string");
        columns.put("Action", "string");
        columns.put("ActorId", "string");
        columns.put("ActorType", "string");
        columns.put("ActorName", "string");
        columns.put("Targets", "dynamic");
        columns.put("Location", "string");
        columns.put("UserAgent", "string");
        columns.put("Metadata", "dynamic");
        return Collections.unmodifiableMap(columns);
    }
}
