package dev.auditstream.destinations;

import static dev.auditstream.outbound.OutboundRequest.header;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;

import dev.auditstream.api.Json;
import dev.auditstream.outbound.ErrorAnswerException;
import dev.auditstream.outbound.OutboundHttp;
import dev.auditstream.outbound.OutboundRequest;

/**
 * OAuth2 client-credentials tokens (RFC 6749 §4.4), fetched with the outbound client and kept until shortly before
 * they expire. Tokens are keyed by everything that was asked with (a changed secret asks again), the secret only as
 * a digest.
 */
public final class ClientCredentials {

    /** A token is renewed this long before it expires (or at half its life, if that is shorter). */
    private static final long RENEW_BEFORE_SECONDS = 300;

    /** What to ask a token endpoint for; {@code parameters} are extra form members (scope, audience). */
    public record Grant(URI tokenUrl, String clientId, String clientSecret, Map<String, String> parameters) {
    }

    /** @param afterRefusal fetched because the grant's previous token was refused */
    private record Token(String value, Instant renewAt, boolean afterRefusal) {
    }

    private final OutboundHttp http;
    private final Clock clock;
    private final Map<String, Token> tokens = new ConcurrentHashMap<>();
    private final Set<String> refused = ConcurrentHashMap.newKeySet();

    public ClientCredentials(OutboundHttp http, Clock clock) {
        this.http = http;
        this.clock = clock;
    }

    /**
     * A valid access token for the grant: the cached one, or a new one. A refusal by the token endpoint is a
     * {@link DestinationFailure}: {@code invalid} (credentials, tenant, scope), or {@code error} when it is busy.
     */
    public String token(Grant grant) throws IOException, DestinationFailure {
        String key = key(grant);
        Instant now = clock.instant();
        Token cached = tokens.get(key);
        if (cached != null && now.isBefore(cached.renewAt())) {
            return cached.value();
        }
        Token fresh = fetch(grant, now, refused.remove(key));
        tokens.values().removeIf(token -> !now.isBefore(token.renewAt()));
        tokens.put(key, fresh);
        return fresh.value();
    }

    /**
     * The destination refused the grant's token: it is dropped, so the next {@link #token} asks anew. True when the
     * refused token was itself one asked for after a refusal: asking again would not help.
     */
    public boolean refused(Grant grant) {
        String key = key(grant);
        Token dropped = tokens.remove(key);
        if (dropped != null && dropped.afterRefusal()) {
            return true;
        }
        refused.add(key);
        return false;
    }

    private Token fetch(Grant grant, Instant now, boolean afterRefusal) throws IOException, DestinationFailure {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        form.put("client_id", grant.clientId());
        form.put("client_secret", grant.clientSecret());
        form.putAll(grant.parameters());
        byte[] body = form.entrySet().stream()
                .map(e -> encode(e.getKey()) + "=" + encode(e.getValue()))
                .collect(Collectors.joining("&")).getBytes(StandardCharsets.UTF_8);
        OutboundRequest request = OutboundRequest.post(grant.tokenUrl(), List.of(
                header("Content-Type", "application/x-www-form-urlencoded"),
                header("Accept", "application/json")), body);
        JsonNode answer;
        try {
            answer = parse(http.send(request).text());
        } catch (ErrorAnswerException e) {
            throw refused(e);
        }
        String token = answer.path("access_token").asText("");
        long lifetime = answer.path("expires_in").asLong(0);
        if (token.isEmpty() || !answer.path("token_type").asText("Bearer").equalsIgnoreCase("Bearer")) {
            throw new DestinationFailure(new Failure(Failure.Kind.INVALID, null,
                    "The token endpoint " + grant.tokenUrl() + " answered without a bearer access_token.", 0, 0));
        }
        // no expires_in: use the token for this one request only
        return new Token(token, now.plusSeconds(Math.max(0, lifetime - Math.min(RENEW_BEFORE_SECONDS, lifetime / 2))),
                afterRefusal);
    }

    /** Bad client, secret, tenant or scope is the customer's to fix; a busy or failing endpoint is retried. */
    private static DestinationFailure refused(ErrorAnswerException e) {
        int status = e.answer().status();
        JsonNode error = parse(e.answer().text());
        String detail = error.has("error")
                ? error.path("error").asText() + ": " + error.path("error_description").asText("").lines().findFirst().orElse("")
                : e.answer().text();
        String message = "The token endpoint refused the client credentials (HTTP " + status + " "
                + ConfigChecks.abbreviate(detail) + "). Check the client ID, the client secret (not expired) and"
                + " the tenant or token URL.";
        Failure.Kind kind = status == 408 || status == 429 || status >= 500 ? Failure.Kind.RETRY : Failure.Kind.INVALID;
        return new DestinationFailure(new Failure(kind, status, message, 0,
                e.answer().retryAfterSeconds()));
    }

    private static JsonNode parse(String text) {
        try {
            JsonNode node = Json.MAPPER.readTree(text);
            return node == null ? Json.MAPPER.createObjectNode() : node;
        } catch (IOException notJson) {
            return Json.MAPPER.createObjectNode();
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static String key(Grant grant) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (String part : List.of(grant.tokenUrl().toString(), grant.clientId(), grant.clientSecret(),
                    grant.parameters().toString())) {
                digest.update(part.getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
