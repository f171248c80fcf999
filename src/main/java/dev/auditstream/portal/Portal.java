package dev.auditstream.portal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
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
import dev.auditstream.api.Json;
import dev.auditstream.api.Timestamps;
import dev.auditstream.api.Validation;
import dev.auditstream.crypto.SignedLinks;
import dev.auditstream.events.Actor;
import dev.auditstream.organizations.Organizations;

/**
 * The Admin Portal's access: setup links (signed, one organization, minutes to open), the session a link opens
 * (a signed HttpOnly cookie of bounded length), and the guard that scopes every portal call to that organization.
 */
public final class Portal {

    private static final String COOKIE = "auditstream_portal";
    private static final String CSRF_HEADER = "X-AuditStream-Portal";
    private static final String LINK = "link";
    private static final String SESSION = "session";
    private static final Pattern ASSET = Pattern.compile("[a-z0-9-]+\\.(js|css|svg)");
    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "svg", "image/svg+xml");
    private static final Set<String> LINK_FIELDS = Set.of("organization", "intent", "return_url", "success_url",
            "it_contact_emails");

    private final DataSource dataSource;
    private final Organizations organizations;
    private final SignedLinks tokens;
    private final String publicUrl;
    private final Duration linkLifetime;
    private final Duration sessionLifetime;

    public Portal(DataSource dataSource, Organizations organizations, SignedLinks tokens, String publicUrl,
                  Duration linkLifetime, Duration sessionLifetime) {
        this.dataSource = dataSource;
        this.organizations = organizations;
        this.tokens = tokens;
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
        String returnUrl = url(errors.optionalString(request, "return_url", "return_url", Validation.Limit.URL), "return_url", errors);
        String successUrl = url(errors.optionalString(request, "success_url", "success_url", Validation.Limit.URL), "success_url", errors);
        errors.throwIfAny();
        organizations.requireExisting(organization);
        String token = token(LINK, organization, Instant.now().plus(linkLifetime), returnUrl, successUrl);
        return Json.write(Json.MAPPER.createObjectNode().put("link", publicUrl + "/portal/log-streams?token=" + token));
    }

    /**
     * Route step for GET /portal/log-streams: a valid link opens a session and gets the page (so does a reload within
     * a live session, the page having taken the token out of the address bar); anything else gets a clear page.
     */
    public String open(Exchange exchange) throws IOException {
        Message message = exchange.getMessage();
        String token = message.getHeader("token", String.class);
        JsonNode live = token == null ? verify(cookie(message.getHeader("Cookie", String.class)), SESSION) : null;
        SignedLinks.Verified link = tokens.verify(LINK, token);
        message.removeHeaders("*");
        message.setHeader(Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        message.setHeader("Cache-Control", "no-store");
        message.setHeader("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
        if (live != null) {
            return resource("index.html");
        }
        if (token == null) {
            // the page's own address (alert emails link to it) without a session
            message.setHeader(Exchange.HTTP_RESPONSE_CODE, 401);
            return errorPage("Your session has ended. To see or change your organization's log streams, ask the "
                    + "people who set up audit logs for you for a new setup link.");
        }
        if (!link.valid()) {
            boolean forged = link.verdict() == SignedLinks.Verdict.FORGED;
            message.setHeader(Exchange.HTTP_RESPONSE_CODE, forged ? 403 : 410);
            return errorPage(forged
                    ? "This setup link is not valid. Ask the people who sent it for a new one."
                    : "This setup link has expired. Setup links work for a few minutes: ask for a new one.");
        }
        JsonNode claims = link.claims();
        String session = token(SESSION, claims.get("o").asText(), Instant.now().plus(sessionLifetime),
                claims.path("r").asText(null), claims.path("s").asText(null));
        message.setHeader("Set-Cookie", COOKIE + "=" + session + "; Path=/portal; HttpOnly; SameSite=Strict; Max-Age="
                + sessionLifetime.toSeconds() + (publicUrl.startsWith("https:") ? "; Secure" : ""));
        return resource("index.html");
    }

    /**
     * Route step in front of every portal API call: the session's organization becomes the request's
     * {@code organization_id}, whatever the request said, so no call can reach another organization. The session
     * is the request's {@link Actor}.
     */
    public void authorize(Exchange exchange) {
        Message message = exchange.getMessage();
        if (message.getHeader(CSRF_HEADER) == null) {
            throw new ApiException(403, "forbidden", "Portal calls come from the portal page.", List.of());
        }
        String token = cookie(message.getHeader("Cookie", String.class));
        JsonNode session = verify(token, SESSION);
        if (session == null) {
            throw new ApiException(401, "session_expired",
                    "Your session has expired. Ask for a new setup link.", List.of());
        }
        message.setHeader("organization_id", session.get("o").asText());
        message.setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.setVariable("portalSession", session);
        exchange.setVariable(Actor.VARIABLE, Actor.portalSession(token, exchange));
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

    /** The claims of a valid token of this kind (a setup link or a session), else null. */
    private JsonNode verify(String token, String kind) {
        SignedLinks.Verified verified = tokens.verify(kind, token);
        return verified.valid() ? verified.claims() : null;
    }

    private String token(String kind, String organizationId, Instant expires, String returnUrl, String successUrl) {
        ObjectNode claims = Json.MAPPER.createObjectNode().put("o", organizationId);
        if (returnUrl != null) {
            claims.put("r", returnUrl);
        }
        if (successUrl != null) {
            claims.put("s", successUrl);
        }
        return tokens.sign(kind, expires, claims);
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
