package dev.auditstream.stores;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An STS endpoint on loopback that answers AssumeRole as AWS does: a signed form POST in, an AssumeRoleResponse
 * with session credentials (here s3proxy's key pair, so s3proxy accepts what they sign) out, or AccessDenied when
 * the external ID is not the one the role's trust policy names.
 */
public final class LoopbackSts implements AutoCloseable {

    private final HttpServer server;
    private final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
    private volatile String trustedExternalId;
    private volatile Duration lifetime = Duration.ofHours(1);

    private LoopbackSts() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::answer);
        server.start();
    }

    public static LoopbackSts start() throws IOException {
        return new LoopbackSts();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Only this external ID is allowed (null: any). */
    public void trust(String externalId) {
        this.trustedExternalId = externalId;
    }

    /** How long the credentials it hands out are valid. */
    public void lifetime(Duration lifetime) {
        this.lifetime = lifetime;
    }

    public List<Map<String, String>> requests() {
        return requests;
    }

    private void answer(HttpExchange exchange) throws IOException {
        Map<String, String> form = new HashMap<>();
        for (String pair : new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
            String[] kv = pair.split("=", 2);
            form.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                    kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
        }
        form.put("Authorization", String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
        requests.add(form);
        boolean allowed = "AssumeRole".equals(form.get("Action"))
                && (trustedExternalId == null || trustedExternalId.equals(form.get("ExternalId")));
        String body = allowed ? """
                <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
                  <AssumedRoleUser><AssumedRoleId>AROATEST:%s</AssumedRoleId><Arn>%s</Arn></AssumedRoleUser>
                  <Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>
                    <SessionToken>session-%d</SessionToken><Expiration>%s</Expiration></Credentials>
                </AssumeRoleResult><ResponseMetadata><RequestId>req-%d</RequestId></ResponseMetadata></AssumeRoleResponse>
                """.formatted(form.get("RoleSessionName"), form.get("RoleArn"), S3ProxyServer.IDENTITY,
                S3ProxyServer.CREDENTIAL, requests.size(),
                Instant.now().plus(lifetime).truncatedTo(ChronoUnit.SECONDS), requests.size())
                : """
                <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
                  <Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole on resource: %s</Message>
                </Error><RequestId>req-denied</RequestId></ErrorResponse>
                """.formatted(form.get("RoleArn"));
        byte[] out = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "text/xml");
        exchange.sendResponseHeaders(allowed ? 200 : 403, out.length);
        exchange.getResponseBody().write(out);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
