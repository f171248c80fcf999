package dev.auditstream.receivers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A customer's HTTPS endpoint verifying Standard Webhooks signatures (any path, POST only).
 * {@link #events()} holds the {@code event} object of each accepted item; with
 * {@link Builder#standardWebhookEvents()}, each accepted request's {@code {"type", "timestamp", "data"}} object.
 */
public final class WebhookReceiver extends LoopbackReceiver {

    private static final long TOLERANCE_SECONDS = 5 * 60;
    private static final Pattern EPOCH_SECONDS = Pattern.compile("[0-9]{1,12}");
    private static final Pattern KEY_SUFFIX = Pattern.compile("[0-9a-f]{12}");
    private static final Pattern MILLIS_UTC = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
    private static final String INVALID_SIGNATURE = "{\"error\":\"invalid signature\"}";

    private volatile List<byte[]> keys;
    private final String authHeader; // null: no auth expected
    private final EntraTokenEndpoint tokenIssuer; // null: no OAuth2 token expected
    private final String authValue;
    private final Clock clock;
    private final int badSignatureStatus;
    private final boolean standardWebhookEvents;

    private WebhookReceiver(Builder b) {
        super(b.tls, b.tlsProtocol);
        this.standardWebhookEvents = b.standardWebhookEvents;
        this.keys = List.of(key(b.signingSecret));
        this.tokenIssuer = b.tokenIssuer;
        this.authHeader = b.authHeader;
        this.authValue = b.authValue;
        this.clock = b.clock;
        this.badSignatureStatus = b.badSignatureStatus;
    }

    public static WebhookReceiver start(String signingSecret) {
        return builder(signingSecret).start();
    }

    public static Builder builder(String signingSecret) {
        return new Builder(signingSecret);
    }

    /** All auth options reduce to "this header must have exactly this value". */
    public static final class Builder {
        private final String signingSecret;
        private String authHeader;
        private String authValue;
        private EntraTokenEndpoint tokenIssuer;
        private Clock clock = Clock.systemUTC();
        private int badSignatureStatus = 401;
        private boolean standardWebhookEvents;
        private SSLContext tls;
        private String tlsProtocol;

        private Builder(String signingSecret) {
            this.signingSecret = signingSecret;
        }

        public Builder bearerToken(String token) {
            return requiredHeader("Authorization", "Bearer " + token);
        }

        public Builder basicAuth(String user, String password) {
            String credentials = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
            return requiredHeader("Authorization", "Basic " + credentials);
        }

        public Builder requiredHeader(String name, String value) {
            this.authHeader = name;
            this.authValue = value;
            return this;
        }

        /** OAuth2: a bearer token the endpoint issued (and has not revoked). */
        public Builder oauth2(EntraTokenEndpoint issuer) {
            this.tokenIssuer = issuer;
            return this;
        }

        /** HTTPS with this key and certificate, and only clients presenting a certificate this context trusts. */
        public Builder mutualTls(SSLContext serverTls) {
            return mutualTls(serverTls, null);
        }

        /**
         * {@link #mutualTls(SSLContext)} speaking only this protocol. In TLS 1.2 a refused client certificate is
         * refused within the handshake, which the client sees as the server's alert; in TLS 1.3 the client's
         * handshake is over before the server judges its certificate, so the client may only see the connection
         * reset.
         */
        public Builder mutualTls(SSLContext serverTls, String protocol) {
            this.tls = serverTls;
            this.tlsProtocol = protocol;
            return this;
        }

        /** The "now" the timestamp tolerance is measured against. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** The status a request with no valid signature gets: 401 here, 400 from Standard Webhooks libraries. */
        public Builder refuseBadSignaturesWith(int status) {
            this.badSignatureStatus = status;
            return this;
        }

        /** Bodies are single Standard Webhooks events {@code {"type", "timestamp", "data"}} (an operator's webhook). */
        public Builder standardWebhookEvents() {
            this.standardWebhookEvents = true;
            return this;
        }

        public WebhookReceiver start() {
            WebhookReceiver receiver = new WebhookReceiver(this);
            receiver.listen();
            return receiver;
        }
    }

    /**
     * From now on each request must carry a valid signature by every one of these secrets (a rotation's overlap
     * sends one per secret, space-separated).
     */
    public void requireSignaturesBy(String... signingSecrets) {
        List<byte[]> required = new ArrayList<>();
        for (String secret : signingSecrets) {
            required.add(key(secret));
        }
        keys = List.copyOf(required);
    }

    private static byte[] key(String signingSecret) {
        if (!signingSecret.startsWith("whsec_")) {
            throw new IllegalArgumentException("signing secret must look like whsec_<base64>");
        }
        return Base64.getDecoder().decode(signingSecret.substring("whsec_".length()));
    }

    @Override
    protected String path() {
        return null;
    }

    /** The signature covers the bytes as sent; a generic endpoint can't be assumed to undo an encoding first. */
    @Override
    protected boolean acceptsGzip() {
        return false;
    }

    @Override
    protected String errorBody(int status) {
        return "{\"error\":\"" + reasonPhrase(status).toLowerCase(Locale.ROOT) + "\"}";
    }

    @Override
    protected Reply handle(Recorded req) {
        if (authHeader != null && !authValue.equals(req.header(authHeader))) {
            return reject(401, authHeader + " missing or wrong");
        }
        String authorization = req.header("Authorization");
        if (tokenIssuer != null && (authorization == null || !authorization.startsWith("Bearer ")
                || tokenIssuer.clientOf(authorization.substring(7)) == null)) {
            return new Reply(401, "{\"error\":\"invalid_token\"}", "no bearer token the issuer stands by");
        }
        String signatureProblem = signatureProblem(req);
        if (signatureProblem != null) {
            return new Reply(badSignatureStatus, INVALID_SIGNATURE, signatureProblem);
        }

        if (standardWebhookEvents) {
            return standardWebhookEvent(req);
        }
        List<JsonNode> items = new ArrayList<>();
        String mediaType = mediaType(req);
        try {
            if ("application/json".equals(mediaType)) {
                JsonNode root = JSON.readTree(req.body());
                if (!root.isArray()) {
                    return reject(400, "application/json body must be an array, was " + root.getNodeType());
                }
                root.forEach(items::add);
            } else if ("application/x-ndjson".equals(mediaType)) {
                String text = req.bodyText();
                // one object per line; the last line may end with a newline, but there are no blank lines
                for (String line : (text.endsWith("\n") ? text.substring(0, text.length() - 1) : text).split("\n", -1)) {
                    items.add(JSON.readTree(line));
                }
            } else {
                return reject(415, "Content-Type " + req.header("Content-Type"));
            }
        } catch (IOException e) {
            return reject(400, "malformed JSON: " + e.getMessage());
        }
        if (items.isEmpty()) {
            return reject(400, "no items");
        }

        List<JsonNode> events = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String problem = itemProblem(items.get(i));
            if (problem != null) {
                return reject(400, "item " + i + ": " + problem);
            }
            if (isPoison(items.get(i).get("event"))) {
                return reject(400, "item " + i + ": poisoned action");
            }
            events.add(items.get(i).get("event"));
        }
        accept(events);
        return new Reply(200, "{\"ok\":true}", "accepted " + events.size());
    }

    private Reply standardWebhookEvent(Recorded req) {
        if (!"application/json".equals(mediaType(req))) {
            return reject(415, "Content-Type " + req.header("Content-Type"));
        }
        JsonNode event;
        try {
            event = JSON.readTree(req.body());
        } catch (IOException e) {
            return reject(400, "malformed JSON: " + e.getMessage());
        }
        if (!event.isObject() || !event.path("type").isTextual() || !event.path("data").isObject()
                || !isMillisUtc(event.path("timestamp").asText())) {
            return reject(400, "not a {type, timestamp, data} event: " + event);
        }
        accept(List.of(event));
        return new Reply(200, "{\"ok\":true}", "accepted " + event.get("type").asText());
    }

    private String signatureProblem(Recorded req) {
        String id = req.header("webhook-id");
        String timestamp = req.header("webhook-timestamp");
        String signatures = req.header("webhook-signature");
        if (id == null || id.isEmpty() || timestamp == null || signatures == null) {
            return "webhook-id, webhook-timestamp or webhook-signature missing";
        }
        if (!EPOCH_SECONDS.matcher(timestamp).matches()) {
            return "webhook-timestamp is not epoch seconds: " + timestamp;
        }
        if (Math.abs(clock.instant().getEpochSecond() - Long.parseLong(timestamp)) > TOLERANCE_SECONDS) {
            return "webhook-timestamp more than 5 minutes from now: " + timestamp;
        }
        for (byte[] key : keys) {
            byte[] expected = hmac(key, id + "." + timestamp + ".", req.rawBody());
            boolean signed = false;
            for (String candidate : signatures.split(" ")) {
                signed |= candidate.startsWith("v1,") && MessageDigest.isEqual(expected, base64OrEmpty(candidate.substring(3)));
            }
            if (!signed) {
                return "no matching v1 signature by one of the " + keys.size() + " required secrets";
            }
        }
        return null;
    }

    private static String itemProblem(JsonNode item) {
        if (!item.isObject()) {
            return "not an object";
        }
        JsonNode event = item.get("event");
        if (event == null || !event.isObject() || !event.path("id").isTextual() || event.get("id").asText().isEmpty()) {
            return "event must be an object with a string id";
        }
        if (!item.path("keySuffix").isTextual() || !KEY_SUFFIX.matcher(item.get("keySuffix").asText()).matches()) {
            return "keySuffix must be 12 lowercase hex characters";
        }
        if (!item.path("timestamp").isTextual() || !isMillisUtc(item.get("timestamp").asText())) {
            return "timestamp must be ISO-8601 UTC with millisecond precision";
        }
        if (!optionalString(item, "source")) {
            return "source must be a string";
        }
        return null;
    }

    private static boolean isMillisUtc(String s) {
        if (!MILLIS_UTC.matcher(s).matches()) {
            return false;
        }
        try {
            Instant.parse(s); // rejects 2024-13-45 and the like
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    private static byte[] hmac(byte[] key, String prefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(prefix.getBytes(StandardCharsets.UTF_8));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] base64OrEmpty(String s) {
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return new byte[0];
        }
    }
}
