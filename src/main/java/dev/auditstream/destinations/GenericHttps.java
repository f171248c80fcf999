package dev.auditstream.destinations;

import static dev.auditstream.outbound.OutboundRequest.header;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Timestamps;
import dev.auditstream.crypto.Hmac;
import dev.auditstream.outbound.ClientIdentity;
import dev.auditstream.outbound.OutboundHttp;
import dev.auditstream.outbound.OutboundRequest;

/**
 * Any HTTPS endpoint: a JSON array (or NDJSON) of {@code {"event", "keySuffix", "timestamp", "source"}}, with the
 * customer's choice of authentication, and every request signed Standard Webhooks style so the receiver can tell it
 * came from this service: {@code webhook-signature: v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>}.
 */
public final class GenericHttps implements HttpDestination {

    private static final int MAX_ENTRIES = 1000;
    /** A request's body, unless the stream says otherwise ({@code maxBatchBytes}): what receivers commonly take. */
    private static final long DEFAULT_MAX_BYTES = 1024 * 1024;
    /** The bounds of {@code maxBatchBytes}: one event may still exceed it, and is then sent alone. */
    private static final long MIN_MAX_BYTES = 1024;
    private static final long LARGEST_MAX_BYTES = 5L * 1024 * 1024;
    private static final Set<String> AUTH_TYPES = Set.of("none", "bearer", "basic", "header", "oauth2", "mtls");
    private static final String SECRET_PREFIX = "whsec_";
    private static final String PREVIOUS_SECRET = "previousSigningSecret";
    private static final String PREVIOUS_UNTIL = "previousSigningSecretExpiresAt";
    /** Set by the config check from the client certificate; the stream's warnings are derived from it. */
    private static final String CERTIFICATE_EXPIRES_AT = "clientCertificateExpiresAt";
    /** TLS alerts a server sends when it does not accept the client certificate it was shown (or none). */
    private static final Set<String> REFUSED_CERTIFICATE = Set.of("bad_certificate", "certificate_required",
            "unknown_ca", "certificate_unknown", "access_denied", "certificate_expired", "certificate_revoked",
            "unsupported_certificate", "handshake_failure");

    @Override
    public String type() {
        return "GenericHttps";
    }

    @Override
    public List<String> secretPointers() {
        return List.of("/auth/token", "/auth/password", "/auth/headerValue", "/auth/clientSecret", "/auth/clientKey",
                "/signingSecret", "/" + PREVIOUS_SECRET);
    }

    /** The signing secret only signs: it stays when the URL changes. */
    @Override
    public List<String> credentialsSentToUrl() {
        return List.of("/auth/token", "/auth/password", "/auth/headerValue", "/auth/clientSecret");
    }

    private final ClientCredentials tokens;

    public GenericHttps(ClientCredentials tokens) {
        this.tokens = tokens;
    }

    /** A new signing secret, given to the customer once when the stream is created. */
    @Override
    public Map<String, String> generate() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Map.of("signingSecret", SECRET_PREFIX + Base64.getEncoder().encodeToString(key));
    }

    @Override
    public Set<String> readOnlyMembers() {
        return Set.of("signingSecret", PREVIOUS_SECRET, PREVIOUS_UNTIL);
    }

    /** The old secret keeps signing too (a second signature) until {@code until}, so receivers can switch over. */
    @Override
    public String rotateSecret(ObjectNode config, Instant until) {
        config.put(PREVIOUS_SECRET, config.path("signingSecret").asText());
        config.put(PREVIOUS_UNTIL, Timestamps.iso(until));
        String fresh = generate().get("signingSecret");
        config.put("signingSecret", fresh);
        return fresh;
    }

    @Override
    public List<String> check(ObjectNode config, ConfigChecks checks) {
        checks.unknownMembers(config, Set.of("url", "format", "source", "maxBatchBytes", "auth", "signingSecret",
                PREVIOUS_SECRET, PREVIOUS_UNTIL), "");
        checks.wholeNumber(config, "maxBatchBytes", "maxBatchBytes", MIN_MAX_BYTES, LARGEST_MAX_BYTES);
        List<String> missing = new ArrayList<>();
        if (checks.url(config, "url") == null) {
            missing.add("url");
        }
        checks.oneOf(config, "format", "format", Set.of("json", "ndjson"));
        checks.string(config, "source", "source");
        JsonNode auth = config.path("auth");
        if (!auth.isMissingNode() && !auth.isNull()) {
            if (!auth.isObject()) {
                checks.add("auth", "invalid_type", "config.auth must be an object.");
                return missing;
            }
            checks.unknownMembers(auth, Set.of("type", "token", "username", "password", "headerName", "headerValue",
                    "tokenUrl", "clientId", "clientSecret", "scope", "audience", "clientCertificate", "clientKey",
                    "caCertificate", CERTIFICATE_EXPIRES_AT), "auth.");
            String type = checks.oneOf(auth, "type", "auth.type", AUTH_TYPES);
            List<String> needed = switch (type == null ? "none" : type) {
                case "bearer" -> List.of("token");
                case "basic" -> List.of("username", "password");
                case "header" -> List.of("headerName", "headerValue");
                case "oauth2" -> List.of("tokenUrl", "clientId", "clientSecret");
                case "mtls" -> List.of("clientCertificate", "clientKey");
                default -> List.of();
            };
            Map<String, String> given = new LinkedHashMap<>();
            given.put("token", checks.headerValue(auth, "token", "auth.token"));
            given.put("username", username(auth, checks));
            given.put("password", checks.encodedHeaderValue(auth, "password", "auth.password"));
            given.put("headerName", checks.headerName(auth, "headerName", "auth.headerName"));
            given.put("headerValue", checks.headerValue(auth, "headerValue", "auth.headerValue"));
            given.put("tokenUrl", checks.url(auth, "tokenUrl", "auth.tokenUrl"));
            given.put("clientId", checks.string(auth, "clientId", "auth.clientId"));
            given.put("clientSecret", checks.string(auth, "clientSecret", "auth.clientSecret"));
            given.put("clientCertificate", checks.pem(auth, "clientCertificate", "auth.clientCertificate"));
            given.put("clientKey", checks.pem(auth, "clientKey", "auth.clientKey"));
            checks.string(auth, "scope", "auth.scope");
            checks.string(auth, "audience", "auth.audience");
            given.forEach((member, value) -> {
                if (value == null && needed.contains(member)) {
                    missing.add("auth." + member);
                }
            });
            ((ObjectNode) auth).remove(CERTIFICATE_EXPIRES_AT);
            if ("mtls".equals(type)) {
                checkIdentity((ObjectNode) auth, given.get("clientCertificate"), given.get("clientKey"), checks);
            }
        }
        return missing;
    }

    /**
     * The certificate chain and key parse, belong together and are valid now; the certificate's end of validity is
     * kept in the config (the stream warns two weeks before it).
     */
    private static void checkIdentity(ObjectNode auth, String certificatePem, String keyPem, ConfigChecks checks) {
        String caPem = checks.pem(auth, "caCertificate", "auth.caCertificate");
        if (caPem != null) {
            try {
                ClientIdentity.certificates(caPem);
            } catch (ClientIdentity.PemException e) {
                checks.add("auth.caCertificate", "invalid_pem", "config.auth.caCertificate " + e.getMessage() + ".");
            }
        }
        List<X509Certificate> chain = null;
        if (certificatePem != null) {
            try {
                chain = ClientIdentity.certificates(certificatePem);
            } catch (ClientIdentity.PemException e) {
                checks.add("auth.clientCertificate", "invalid_pem", "config.auth.clientCertificate " + e.getMessage() + ".");
            }
        }
        PrivateKey key = null;
        if (keyPem != null) {
            try {
                key = ClientIdentity.privateKey(keyPem);
            } catch (ClientIdentity.PemException e) {
                checks.add("auth.clientKey", "invalid_pem", "config.auth.clientKey " + e.getMessage() + ".");
            }
        }
        if (chain == null) {
            return;
        }
        X509Certificate leaf = chain.get(0);
        Instant now = Instant.now();
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            checks.add("auth.clientCertificate", "expired", "config.auth.clientCertificate expired at "
                    + Timestamps.iso(leaf.getNotAfter().toInstant()) + ".");
        } else if (now.isBefore(leaf.getNotBefore().toInstant())) {
            checks.add("auth.clientCertificate", "not_yet_valid", "config.auth.clientCertificate is valid from "
                    + Timestamps.iso(leaf.getNotBefore().toInstant()) + " only.");
        }
        if (key != null && !ClientIdentity.matches(key, leaf)) {
            checks.add("auth.clientKey", "key_mismatch",
                    "config.auth.clientKey is not the key of the first certificate in config.auth.clientCertificate.");
        }
        auth.put(CERTIFICATE_EXPIRES_AT, Timestamps.iso(leaf.getNotAfter().toInstant()));
    }

    /** A basic-auth user name: encoded, and without the colon that ends it (RFC 7617). */
    private static String username(JsonNode auth, ConfigChecks checks) {
        String username = checks.encodedHeaderValue(auth, "username", "auth.username");
        if (username != null && username.contains(":")) {
            checks.add("auth.username", "invalid", "config.auth.username may not contain a colon.");
            return null;
        }
        return username;
    }

    @Override
    public Outbound prepare(DeliveryTarget target, List<StoredEvent> events) throws IOException, DestinationFailure {
        boolean ndjson = "ndjson".equals(target.text("format", "json"));
        String source = target.text("source", null);
        String tail = (source == null ? "" : ",\"source\":" + Payloads.quote(source)) + "}";
        Entries entries = Entries.join(events,
                e -> "{\"event\":" + e.json() + ",\"keySuffix\":\"" + Payloads.keySuffix(target.streamId(), e.id())
                        + "\",\"timestamp\":\"" + Timestamps.iso(e.acceptedAt()) + "\"" + tail,
                ndjson ? "" : "[", ndjson ? "\n" : ",", ndjson ? "\n" : "]", MAX_ENTRIES,
                target.config().path("maxBatchBytes").asLong(DEFAULT_MAX_BYTES));

        // the id names this stream's batch: a retry of the same events carries the same webhook-id, and another
        // stream sending the same events to the same receiver is not taken for a repeat
        String id = "msg_" + target.streamId() + "_" + events.get(0).id() + "_" + entries.count();
        String timestamp = String.valueOf(Instant.now().getEpochSecond());
        List<OutboundRequest.Header> headers = new ArrayList<>(List.of(
                header("Content-Type", ndjson ? "application/x-ndjson" : "application/json"),
                header("webhook-id", id),
                header("webhook-timestamp", timestamp),
                header("webhook-signature", signatures(target, id, timestamp, entries.body()))));
        JsonNode auth = target.config().path("auth");
        switch (auth.path("type").asText("none")) {
            case "bearer" -> headers.add(header("Authorization", "Bearer " + auth.path("token").asText()));
            case "basic" -> headers.add(header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    (auth.path("username").asText() + ":" + auth.path("password").asText())
                            .getBytes(StandardCharsets.UTF_8))));
            // a name the config check allowed: a token, none of the protocol's, Camel's or the signature's
            case "header" -> headers.add(header(auth.path("headerName").asText(), auth.path("headerValue").asText()));
            case "oauth2" -> headers.add(header("Authorization", "Bearer " + tokens.token(grant(auth))));
            default -> {
                // no authentication beyond the signature
            }
        }
        OutboundRequest request = OutboundRequest.post(URI.create(target.text("url", "")), headers, entries.body());
        return new Outbound("mtls".equals(auth.path("type").asText()) ? request.with(identity(target, auth)) : request,
                entries.count());
    }

    private static ClientIdentity identity(DeliveryTarget target, JsonNode auth) throws DestinationFailure {
        try {
            return ClientIdentity.of(target.streamId(), auth.path("clientCertificate").asText(),
                    auth.path("clientKey").asText(), auth.path("caCertificate").asText(null));
        } catch (ClientIdentity.PemException e) {
            // checked when the config was saved: only a stored config from before those checks gets here
            throw new DestinationFailure(new Failure(Failure.Kind.INVALID, null,
                    "The client certificate or key cannot be read: it " + e.getMessage() + ".", 0, 0));
        }
    }

    /**
     * A TLS handshake of a mutual TLS stream that fails on a certificate is the configuration's fault, not the
     * network's: the endpoint refused the client certificate, or its own is not trusted. (In TLS 1.3 the endpoint
     * judges the client certificate after the client's handshake is over: the refusal may reach us as a reset
     * connection only, which stays a retryable failure.)
     */
    @Override
    public Failure classify(DeliveryTarget target, IOException failure) {
        if (!"mtls".equals(target.config().path("auth").path("type").asText())) {
            return null;
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SSLException tls && tls.getMessage() != null) {
                String said = ConfigChecks.abbreviate(tls.getMessage());
                if (said.startsWith("Received fatal alert: ")
                        && REFUSED_CERTIFICATE.contains(said.substring("Received fatal alert: ".length()))) {
                    return new Failure(Failure.Kind.INVALID, null, "The endpoint refused the client certificate in"
                            + " the TLS handshake (" + said + "). Check that it trusts the certificate's issuer and that"
                            + " the certificate is the one it expects.", 0, 0);
                }
                if (tls instanceof OutboundHttp.ClosedInHandshakeException) {
                    return new Failure(Failure.Kind.INVALID, null, said + " after it asked for the client"
                            + " certificate: it most likely refused it. Check that it trusts the certificate's issuer"
                            + " and that the certificate is the one it expects.", 0, 0);
                }
                if (tls instanceof SSLHandshakeException && tls.getCause() instanceof CertificateException) {
                    return new Failure(Failure.Kind.INVALID, null, "The endpoint's certificate is not trusted (" + said
                            + "). Set caCertificate to the CA that issued it if it is a private one.", 0, 0);
                }
            }
        }
        return null;
    }

    /**
     * A 401 to an OAuth2 stream drops its token: the next attempt (soon, as for any retryable failure) gets a new
     * one. Only when a newly fetched token is refused too is the stream {@code invalid}.
     */
    @Override
    public Failure classify(DeliveryTarget target, int status, String body, long retryAfterSeconds) {
        JsonNode auth = target.config().path("auth");
        if (status != 401 || !"oauth2".equals(auth.path("type").asText())) {
            return classify(status, body, retryAfterSeconds);
        }
        String said = "HTTP 401: " + ConfigChecks.abbreviate(body);
        return tokens.refused(grant(auth))
                ? new Failure(Failure.Kind.INVALID, status, "The endpoint refused a newly issued OAuth2 token (" + said
                        + "). Check the scope and audience the endpoint expects, and that it trusts the token URL.", 0, 0)
                : new Failure(Failure.Kind.RETRY, status, "The endpoint refused the OAuth2 token (" + said
                        + "); a new one is requested.", 0, 0);
    }

    private static ClientCredentials.Grant grant(JsonNode auth) {
        Map<String, String> parameters = new LinkedHashMap<>();
        for (String member : List.of("scope", "audience")) {
            if (!auth.path(member).asText("").isBlank()) {
                parameters.put(member, auth.path(member).asText());
            }
        }
        return new ClientCredentials.Grant(URI.create(auth.path("tokenUrl").asText()), auth.path("clientId").asText(),
                auth.path("clientSecret").asText(), parameters);
    }

    /** {@code v1,<signature>}, and during a rotation's overlap the old secret's too, space-separated. */
    private static String signatures(DeliveryTarget target, String id, String timestamp, byte[] body) {
        String signatures = "v1," + sign(target.text("signingSecret", ""), id, timestamp, body);
        String previous = target.text(PREVIOUS_SECRET, null);
        String until = target.text(PREVIOUS_UNTIL, null);
        if (previous != null && until != null && Instant.now().isBefore(Instant.parse(until))) {
            signatures += " v1," + sign(previous, id, timestamp, body);
        }
        return signatures;
    }

    /** A Standard Webhooks signature (without its {@code v1,}): also how the operator's alert webhook is signed. */
    public static String sign(String secret, String id, String timestamp, byte[] body) {
        byte[] key = Base64.getDecoder().decode(secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret);
        return Base64.getEncoder().encodeToString(
                Hmac.sha256(key, (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8), body));
    }
}
