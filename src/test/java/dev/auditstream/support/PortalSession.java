package dev.auditstream.support;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** A customer's IT admin in the Admin Portal: the session cookie a setup link opened, and calls as the page makes them. */
public record PortalSession(RunningService service, String cookie) {

    /**
     * Asks for a setup link for the organization (API key) and opens it, as the admin's browser does (on this
     * instance, whatever public URL the link names).
     */
    public static PortalSession open(RunningService service, String organizationId) throws Exception {
        URI link = URI.create(TestJson.read(service.post("/portal/generate_link",
                "{\"organization\":\"" + organizationId + "\",\"intent\":\"log_streams\"}").body()).get("link").asText());
        HttpResponse<String> page = RunningService.sendRaw(HttpRequest.newBuilder(
                service.uri(link.getRawPath() + "?" + link.getRawQuery())).build());
        String cookie = page.headers().firstValue("Set-Cookie").orElseThrow();
        return new PortalSession(service, cookie.substring(0, cookie.indexOf(';')));
    }

    /** A portal API call as the page's script makes it: the session cookie, the CSRF header, a JSON body. */
    public HttpResponse<String> send(String method, String path, String body) throws Exception {
        return RunningService.sendRaw(request(method, path, body).build());
    }

    public HttpRequest.Builder request(String method, String path, String body) {
        return request(service, cookie, method, path, body);
    }

    /** The page's call with any cookie (or none). */
    public static HttpRequest.Builder request(RunningService service, String cookie, String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(service.uri(path))
                .header("X-AuditStream-Portal", "1")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        return request;
    }
}
