package dev.auditstream.receivers;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Microsoft Entra ID's v2.0 token endpoint, client-credentials grant only
 * ({@code POST /{tenant}/oauth2/v2.0/token}, form-encoded {@code grant_type=client_credentials}, {@code client_id},
 * {@code client_secret}, {@code scope}), answering as Entra documents: a bearer {@code access_token} with
 * {@code expires_in}, or {@code {"error", "error_description" (AADSTS…), "error_codes"}}. Tokens are opaque here;
 * {@link #clientOf} tells a resource which app a token was issued to, and for which scope.
 */
public final class EntraTokenEndpoint extends LoopbackReceiver {

    /** An issued token: the app it was issued to and the scope it grants. */
    public record Issued(String clientId, String scope) {
    }

    private final String tenantId;
    private final Map<String, String> secrets;
    private final Map<String, Issued> issued = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /** @param secrets each registered app's client ID and its one valid secret */
    private EntraTokenEndpoint(String tenantId, Map<String, String> secrets) {
        this.tenantId = tenantId;
        this.secrets = Map.copyOf(secrets);
    }

    public static EntraTokenEndpoint start(String tenantId, Map<String, String> secrets) {
        EntraTokenEndpoint endpoint = new EntraTokenEndpoint(tenantId, secrets);
        endpoint.listen();
        return endpoint;
    }

    /** What the token was issued for, or null when this endpoint never issued it. */
    public Issued clientOf(String token) {
        return token == null ? null : issued.get(token);
    }

    /** Revokes every token issued to the app so far: resources refuse them from now on. */
    public void revokeTokensOf(String clientId) {
        issued.values().removeIf(token -> token.clientId().equals(clientId));
    }

    @Override
    protected String path() {
        return "/" + tenantId + "/oauth2/v2.0/token";
    }

    @Override
    protected boolean acceptsGzip() {
        return false;
    }

    @Override
    protected String errorBody(int status) {
        return error(status == 404 ? "invalid_request" : "temporarily_unavailable",
                status == 404 ? "AADSTS90002: Tenant not found." : "AADSTS50196: The server is busy.");
    }

    @Override
    protected Reply handle(Recorded req) {
        if (!"application/x-www-form-urlencoded".equals(mediaType(req))) {
            return new Reply(400, error("invalid_request", "AADSTS900144: The request body must contain the following"
                    + " parameter: 'grant_type'."), "Content-Type " + req.header("Content-Type"));
        }
        Map<String, String> form = form(req.bodyText());
        if (!"client_credentials".equals(form.get("grant_type"))) {
            return new Reply(400, error("unsupported_grant_type", "AADSTS70003: The app requested an unsupported"
                    + " grant type."), "grant_type " + form.get("grant_type"));
        }
        String clientId = form.get("client_id");
        if (!secrets.containsKey(clientId)) {
            return new Reply(400, error("unauthorized_client", "AADSTS700016: Application with identifier '"
                    + clientId + "' was not found in the directory."), "unknown client " + clientId);
        }
        if (!secrets.get(clientId).equals(form.get("client_secret"))) {
            return new Reply(401, error("invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the"
                    + " secret being sent in the request is the client secret value, not the client secret ID."),
                    "wrong secret for " + clientId);
        }
        String scope = form.get("scope");
        if (scope == null || !scope.endsWith("/.default")) {
            return new Reply(400, error("invalid_scope", "AADSTS1002012: The provided value for scope " + scope
                    + " is not valid. Client credential flows must have a scope value with /.default suffixed."),
                    "scope " + scope);
        }
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        String token = "eyJ0eXAiOiJKV1Qi." + HexFormat.of().formatHex(bytes);
        issued.put(token, new Issued(clientId, scope));
        return new Reply(200, "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
                + "\"access_token\":\"" + token + "\"}", "issued to " + clientId);
    }

    private static String error(String error, String description) {
        return "{\"error\":\"" + error + "\",\"error_description\":\"" + description.replace("\"", "\\\"")
                + "\\r\\nTrace ID: 0000\\r\\nCorrelation ID: 0000\",\"error_codes\":[" + description.replaceAll(
                "^AADSTS(\\d+).*", "$1") + "]}";
    }

    private static Map<String, String> form(String body) {
        Map<String, String> form = new HashMap<>();
        for (String pair : body.split("&")) {
            List<String> parts = List.of(pair.split("=", 2));
            form.put(URLDecoder.decode(parts.get(0), StandardCharsets.UTF_8),
                    parts.size() < 2 ? "" : URLDecoder.decode(parts.get(1), StandardCharsets.UTF_8));
        }
        return form;
    }
}
