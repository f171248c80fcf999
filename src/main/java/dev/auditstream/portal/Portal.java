package dev.auditstream.portal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import dev.auditstream.api.ApiException;
import dev.auditstream.api.Hmac;
import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.api.Validation;
import dev.auditstream.organizations.Organizations;

/**
 * The Admin Portal's access: setup links (signed, one organization, minutes to open), the session a link opens
 * (a signed HttpOnly cookie of bounded length), and the guard that scopes every portal call to that organization.
 */
public final class Portal {

    private static final String COOKIE = "auditstream_portal";
    private static final String CSRF_HEADER = "X-AuditStream-Portal";
    private static final Pattern ASSET = Pattern.compile("[a-z0-9-]+\\.(js|css|svg)");
    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "svg", "image/svg+xml");
    private static final Set<String> LINK_FIELDS = Set.of("organization", "intent", "return_url", "success_url",
            "it_contact_emails");

    private final DataSource dataSource;
    private final Organizations organizations;
    private final byte[] key;
    private final String publicUrl;
    private final Duration linkLifetime;
    private final Duration sessionLifetime;

    public Portal(DataSource dataSource, Organizations organizations, byte[] key, String publicUrl,
                  Duration linkLifetime, Duration sessionLifetime) {
        this.dataSource = dataSource;
        this.organizations = organizations;
        this.key = key;
        this.publicUrl = publicUrl;
        this.linkLifetime = linkLifetime;
        this.sessionLifetime = sessionLifetime;
    }

    /** Route step for POST /portal/generate_link (WorkOS-compatible). */
    public String generateLink(byte[] body) throws SQLException {
        ObjectNode request = Json.object(body);
        Validation errors = new Validation();
        errors.unknownFields(request, LINK_FIELDS, "");
        String organization = errors.requiredString(request, "organization", "organization");
        String intent = errors.requiredString(request, "intent", "intent");
        if (intent != null && !intent.equals("log_streams")) {
            errors.add("intent", "unsupported", "This service's portal offers the log_streams intent.");
        }
        String returnUrl = url(errors.optionalString(request, "return_url", "return_url"), "return_url", errors);
        String successUrl = url(errors.optionalString(request, "success_url", "success_url"), "success_url", errors);
        errors.throwIfAny();
        organizations.requireExisting(organization);
        String token = token("link", organization, Instant.now().plus(linkLifetime), returnUrl, successUrl);
        return Json.write(Json.MAPPER.createObjectNode().put("link", publicUrl + "/portal/log-streams?token=" + token));
    }

    /**
     * Route step for GET /portal/log-streams: a valid link opens a session and gets the page (so does a reload within
     * a live session, the page having taken the token out of the address bar); anything else gets a clear page.
     */
    public String open(Exchange exchange) throws IOException {
        Message message = exchange.getMessage();
        String token = message.getHeader("token", String.class);
        JsonNode live = token == null ? verify(cookie(message.getHeader("Cookie", String.class)), "session") : null;
        JsonNode link = verify(token, "link");
        message.removeHeaders("*");
        message.setHeader(Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        message.setHeader("Cache-Control", "no-store");
        message.setHeader("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
        if (live != null && live.has("o")) {
            return resource("index.html");
        }
        if (link == null || !link.has("o")) {
            message.setHeader(Exchange.HTTP_RESPONSE_CODE, link == null ? 403 : 410);
            return errorPage(link == null
                    ? "This setup link is not valid. Ask the people who sent it for a new one."
                    : "This setup link has expired. Setup links work for a few minutes: ask for a new one.");
        }
        String session = token("session", link.get("o").asText(), Instant.now().plus(sessionLifetime),
                link.path("r").asText(null), link.path("s").asText(null));
        message.setHeader("Set-Cookie", COOKIE + "=" + session + "; Path=/portal; HttpOnly; SameSite=Strict; Max-Age="
                + sessionLifetime.toSeconds() + (publicUrl.startsWith("https:") ? "; Secure" : ""));
        return resource("index.html");
    }

    /**
     * Route step in front of every portal API call: the session's organization becomes the request's
     * {@code organization_id}, whatever the request said, so no call can reach another organization.
     */
    public void authorize(Exchange exchange) {
        Message message = exchange.getMessage();
        if (message.getHeader(CSRF_HEADER) == null) {
            throw new ApiException(403, "forbidden", "Portal calls come from the portal page.", List.of());
        }
        JsonNode session = verify(cookie(message.getHeader("Cookie", String.class)), "session");
        if (session == null || !session.has("o")) {
            throw new ApiException(401, "session_expired",
                    "Your session has expired. Ask for a new setup link.", List.of());
        }
        message.setHeader("organization_id", session.get("o").asText());
        message.setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.setVariable("portalSession", session);
    }

    /** Route step for POST /portal/api/streams: the stream is created in the session's organization. */
    public byte[] inOrganization(Exchange exchange) {
        ObjectNode body = Json.object(exchange.getMessage().getBody(byte[].class));
        body.put("organization_id", exchange.getMessage().getHeader("organization_id", String.class));
        return Json.write(body).getBytes(StandardCharsets.UTF_8);
    }

    /** Route step for GET /portal/api/session. */
    public String session(Exchange exchange) throws SQLException {
        JsonNode session = exchange.getVariable("portalSession", JsonNode.class);
        String organizationId = session.get("o").asText();
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ObjectNode organization = answer.putObject("organization").put("id", organizationId);
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT name FROM organization WHERE id = ?")) {
            ps.setString(1, organizationId);
            try (ResultSet rs = ps.executeQuery()) {
                organization.put("name", rs.next() ? rs.getString(1) : organizationId);
            }
        }
        answer.put("return_url", session.path("r").asText(null));
        answer.put("success_url", session.path("s").asText(null));
        answer.put("expires_at", Timestamps.iso(Instant.ofEpochSecond(session.get("e").asLong())));
        return Json.write(answer);
    }

    /** Route step for GET /portal/assets/{file}: the page's scripts and styles, nothing else. */
    public String asset(Exchange exchange) throws IOException {
        String file = exchange.getMessage().getHeader("file", String.class);
        if (file == null || !ASSET.matcher(file).matches()) {
            throw ApiException.notFound("Asset", String.valueOf(file));
        }
        String content = resource(file);
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, CONTENT_TYPES.get(file.substring(file.lastIndexOf('.') + 1)));
        return content;
    }

    private String resource(String name) throws IOException {
        try (InputStream in = Portal.class.getResourceAsStream("/portal/" + name)) {
            if (in == null) {
                throw ApiException.notFound("Asset", name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * The token's claims, or null when it is not this service's; a token whose time is up comes back without its
     * organization, so the caller can tell expired from forged.
     */
    private JsonNode verify(String token, String kind) {
        if (token == null) {
            return null;
        }
        int dot = token.indexOf('.');
        if (dot < 0) {
            return null;
        }
        String payload = token.substring(0, dot);
        if (!MessageDigest.isEqual(sign(payload).getBytes(StandardCharsets.US_ASCII),
                token.substring(dot + 1).getBytes(StandardCharsets.US_ASCII))) {
            return null;
        }
        ObjectNode claims = Json.object(Base64.getUrlDecoder().decode(payload));
        if (!kind.equals(claims.path("k").asText())) {
            return null;
        }
        if (Instant.now().getEpochSecond() >= claims.path("e").asLong()) {
            claims.remove("o");
        }
        return claims;
    }

    private String token(String kind, String organizationId, Instant expires, String returnUrl, String successUrl) {
        ObjectNode claims = Json.MAPPER.createObjectNode().put("k", kind).put("o", organizationId)
                .put("e", expires.getEpochSecond());
        if (returnUrl != null) {
            claims.put("r", returnUrl);
        }
        if (successUrl != null) {
            claims.put("s", successUrl);
        }
        String payload = Base64.getUrlEncoder().withoutPadding()
                .encodeToString(Json.write(claims).getBytes(StandardCharsets.UTF_8));
        return payload + "." + sign(payload);
    }

    private String sign(String payload) {
        return Hmac.urlSafe(key, payload.getBytes(StandardCharsets.US_ASCII));
    }

    private static String cookie(String header) {
        if (header == null) {
            return null;
        }
        for (String part : header.split(";")) {
            String trimmed = part.trim();
            if (trimmed.startsWith(COOKIE + "=")) {
                return trimmed.substring(COOKIE.length() + 1);
            }
        }
        return null;
    }

    private static String url(String value, String field, Validation errors) {
        if (value == null) {
            return null;
        }
        try {
            URI uri = new URI(value);
            if (("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) && uri.getHost() != null) {
                return value;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        errors.add(field, "invalid_url", field + " must be an http(s) URL.");
        return null;
    }

    private static String errorPage(String message) {
        String text = message.replace("&", "&amp;").replace("<", "&lt;");
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <title>Setup link — AuditStream</title>
                <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
                h1{font-size:1.4rem}</style></head>
                <body><main><h1>Log stream setup</h1><p role="alert">%s</p></main></body></html>
                """.formatted(text);
    }
}
