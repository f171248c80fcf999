package dev.auditstream.receivers;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Azure Monitor's Logs Ingestion API for one data collection rule and stream
 * ({@code POST /dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01}): a bearer token from the
 * {@link EntraTokenEndpoint} for Azure Monitor's scope, issued to an app with the Monitoring Metrics Publisher role
 * on the rule; a JSON array (gzip allowed) of records of the declared columns, at most 1 MB per call; 204 when
 * taken. {@link #events()} holds the accepted records.
 */
public final class LogsIngestion extends LoopbackReceiver {

    public static final String API_VERSION = "2023-01-01";
    public static final String SCOPE = "https://monitor.azure.com/.default";
    /** The per-call limit, 1 MB, read strictly. */
    public static final int MAX_CALL_BYTES = 1_000_000;

    private final EntraTokenEndpoint entra;
    private final String dcrImmutableId;
    private final String streamName;
    private final Set<String> columns;
    private final Set<String> publishers;

    /** @param publishers the apps (client IDs) holding Monitoring Metrics Publisher on the rule */
    private LogsIngestion(EntraTokenEndpoint entra, String dcrImmutableId, String streamName, Set<String> columns,
                          Set<String> publishers) {
        this.entra = entra;
        this.dcrImmutableId = dcrImmutableId;
        this.streamName = streamName;
        this.columns = Set.copyOf(columns);
        this.publishers = Set.copyOf(publishers);
    }

    public static LogsIngestion start(EntraTokenEndpoint entra, String dcrImmutableId, String streamName,
                                      Set<String> columns, Set<String> publishers) {
        LogsIngestion ingestion = new LogsIngestion(entra, dcrImmutableId, streamName, columns, publishers);
        ingestion.listen();
        return ingestion;
    }

    @Override
    protected String path() {
        return "/dataCollectionRules/" + dcrImmutableId + "/streams/" + streamName;
    }

    @Override
    protected String errorBody(int status) {
        return error(switch (status) {
            case 404 -> "NotFound";
            case 429 -> "TooManyRequests";
            case 503 -> "ServiceUnavailable";
            default -> reasonPhrase(status).replace(" ", "");
        }, reasonPhrase(status));
    }

    @Override
    protected Reply handle(Recorded req) {
        if (!("api-version=" + API_VERSION).equals(req.query())) {
            return new Reply(400, error("InvalidApiVersion", "The api-version query parameter is missing or not"
                    + " supported."), "query " + req.query());
        }
        String authorization = req.header("Authorization");
        EntraTokenEndpoint.Issued issued = authorization != null && authorization.startsWith("Bearer ")
                ? entra.clientOf(authorization.substring(7)) : null;
        if (issued == null || !SCOPE.equals(issued.scope())) {
            return new Reply(401, error("InvalidToken", "The authentication token provided is invalid or for"
                    + " another audience."), "token " + (issued == null ? "unknown" : "for " + issued.scope()));
        }
        if (!publishers.contains(issued.clientId())) {
            return new Reply(403, error("OperationFailed", "The authentication token provided does not have access"
                    + " to ingest data for the data collection rule with immutable Id '" + dcrImmutableId + "'."),
                    issued.clientId() + " lacks the role");
        }
        if (!"application/json".equals(mediaType(req))) {
            return reject(415, "Content-Type " + req.header("Content-Type"));
        }
        if (req.rawBody().length > MAX_CALL_BYTES || req.body().length > MAX_CALL_BYTES) {
            return new Reply(413, error("ContentLengthLimitExceeded", "Maximum allowed content length: "
                    + MAX_CALL_BYTES + " bytes."), req.body().length + " bytes");
        }
        JsonNode root;
        try {
            root = JSON.readTree(req.body());
        } catch (IOException e) {
            return new Reply(400, error("InvalidContent", "Malformed JSON."), "malformed JSON: " + e.getMessage());
        }
        if (root == null || !root.isArray() || root.isEmpty()) {
            return new Reply(400, error("InvalidContent", "The body must be a JSON array of records."), "not an array");
        }
        List<JsonNode> records = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            String problem = problem(root.get(i));
            if (problem != null) {
                return new Reply(400, error("InvalidContent", "Record " + i + ": " + problem), "record " + i
                        + ": " + problem);
            }
            records.add(root.get(i));
        }
        accept(records);
        return new Reply(204, "", "accepted " + records.size());
    }

    /** Records must have exactly the declared columns (a real rule drops others silently: here that is a bug). */
    private String problem(JsonNode record) {
        if (!record.isObject()) {
            return "not an object";
        }
        Set<String> names = new HashSet<>();
        record.fieldNames().forEachRemaining(names::add);
        if (!names.equals(columns)) {
            return "columns " + names + " instead of " + columns;
        }
        try {
            Instant.parse(record.path("TimeGenerated").asText());
        } catch (DateTimeParseException e) {
            return "TimeGenerated is not a datetime";
        }
        return null;
    }

    private static String error(String code, String message) {
        return "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message.replace("\"", "\\\"") + "\"}}";
    }
}
