package dev.auditstream.stores;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * Google's OAuth token endpoint and Cloud Storage JSON API on loopback, checking what Google documents:
 * <ul>
 * <li>{@code POST /token}: the JWT bearer grant ({@code grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer}),
 * its RS256 assertion verified with the public half of the service account's key, {@code iss} a known account,
 * {@code aud} Google's token URI, a Cloud Storage {@code scope}, {@code iat}/{@code exp} current; answers an access token
 * that expires after {@link #tokenLifetime}.</li>
 * <li>{@code POST /upload/storage/v1/b/{bucket}/o}: a media ({@code name} in the query) or multipart
 * ({@code multipart/related}: JSON metadata, then the media) upload with {@code Authorization: Bearer <token>} of an
 * unexpired token; {@code ifGenerationMatch=0} refuses an existing object with 412; a bucket with a locked retention
 * policy refuses to replace an object with 403 {@code retentionPolicyNotMet}; an {@code md5Hash} or
 * {@code crc32c} that does not match the body is a 400.</li>
 * <li>{@code GET /storage/v1/b/{bucket}/o/{object}}: the object's metadata ({@code md5Hash}), or 404.</li>
 * </ul>
 */
public final class LoopbackGcs implements AutoCloseable {

    static {
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** What every assertion's {@code aud} is, wherever it is posted (Google: "always" this value). */
    private static final String GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";
    private static final String GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private static final Pattern UPLOAD = Pattern.compile("/upload/storage/v1/b/([^/]+)/o");
    private static final Pattern METADATA = Pattern.compile("/storage/v1/b/([^/]+)/o/(.+)");

    /** A generated service account: its email and its key file as the Cloud Console downloads it. */
    public record Account(String email, String keyJson) {
    }

    /** One answered request: method, path, status. */
    public record Call(String method, String path, int status) {
    }

    private final HttpServer server;
    private final Map<String, PublicKey> accounts = new ConcurrentHashMap<>();
    private final Set<String> revoked = ConcurrentHashMap.newKeySet();
    private final Map<String, Instant> tokens = new ConcurrentHashMap<>();
    private final Map<String, String> tokenAccounts = new ConcurrentHashMap<>();
    private final Map<String, byte[]> objects = new ConcurrentHashMap<>();
    private final Set<String> lockedBuckets = ConcurrentHashMap.newKeySet();
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger issued = new AtomicInteger();
    private volatile Duration tokenLifetime = Duration.ofHours(1);

    private LoopbackGcs() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", this::answer);
        server.start();
    }

    public static LoopbackGcs start() throws IOException {
        return new LoopbackGcs();
    }

    /** The JSON API's root, as StorageOptions' host. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public URI tokenUri() {
        return endpoint().resolve("/token");
    }

    /**
     * A new service account this endpoint knows, with a full-size key file (a fresh RSA 2048 key, every member the
     * Cloud Console writes, Google's token_uri).
     */
    public Account newAccount(String name) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair pair = generator.generateKeyPair();
        String email = name + "@audit-project-123456.iam.gserviceaccount.com";
        accounts.put(email, pair.getPublic());
        return new Account(email, keyFile(email, pair));
    }

    /** A key file as the Cloud Console writes it, for that account and key pair, with Google's token_uri. */
    public static String keyFile(String email, KeyPair pair) throws GeneralSecurityException {
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(pair.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        ObjectNode key = JSON.createObjectNode().put("type", "service_account").put("project_id", "audit-project-123456")
                .put("private_key_id", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                        .digest(pair.getPublic().getEncoded())))
                .put("private_key", pem).put("client_email", email)
                .put("client_id", "1" + String.format("%020d", Math.abs((long) email.hashCode())))
                .put("auth_uri", "https://accounts.google.com/o/oauth2/auth")
                .put("token_uri", GOOGLE_TOKEN_URI)
                .put("auth_provider_x509_cert_url", "https://www.googleapis.com/oauth2/v1/certs")
                .put("client_x509_cert_url", "https://www.googleapis.com/robot/v1/metadata/x509/"
                        + URLEncoder.encode(email, StandardCharsets.UTF_8))
                .put("universe_domain", "googleapis.com");
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(key);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tokens of this account are refused with 401 from now on (a deleted key or service account). */
    public void revoke(String clientEmail) {
        revoked.add(clientEmail);
    }

    /** The account is deleted: its assertions get invalid_grant. */
    public void delete(String clientEmail) {
        accounts.remove(clientEmail);
    }

    public void tokenLifetime(Duration lifetime) {
        this.tokenLifetime = lifetime;
    }

    public int tokensIssued() {
        return issued.get();
    }

    /** Objects of this bucket cannot be replaced (a locked retention policy). */
    public void lock(String bucket) {
        lockedBuckets.add(bucket);
    }

    /** Stores an object as another writer would. */
    public void put(String bucket, String name, byte[] body) {
        objects.put(bucket + "/" + name, body);
    }

    /** Object names of the bucket under the prefix, with their bodies. */
    public Map<String, String> objects(String bucket, String prefix) {
        Map<String, String> found = new HashMap<>();
        objects.forEach((key, body) -> {
            if (key.startsWith(bucket + "/" + prefix)) {
                found.put(key.substring(bucket.length() + 1), new String(body, StandardCharsets.UTF_8));
            }
        });
        return found;
    }

    public List<Call> calls() {
        return calls;
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void answer(HttpExchange exchange) throws IOException {
        int status;
        String body;
        try {
            String path = exchange.getRequestURI().getRawPath();
            Map<String, String> query = form(exchange.getRequestURI().getRawQuery());
            Matcher upload = UPLOAD.matcher(path);
            Matcher metadata = METADATA.matcher(path);
            if ("POST".equals(exchange.getRequestMethod()) && "/token".equals(path)) {
                String[] answer = token(form(new String(read(exchange), StandardCharsets.UTF_8)));
                status = Integer.parseInt(answer[0]);
                body = answer[1];
            } else if (authorized(exchange) != 200) {
                status = authorized(exchange);
                body = error(status, status == 401 ? "Invalid Credentials" : "forbidden");
            } else if ("POST".equals(exchange.getRequestMethod()) && upload.matches()) {
                String[] answer = upload(decode(upload.group(1)), query, exchange);
                status = Integer.parseInt(answer[0]);
                body = answer[1];
            } else if ("GET".equals(exchange.getRequestMethod()) && metadata.matches()) {
                String bucket = decode(metadata.group(1));
                String name = decode(metadata.group(2));
                byte[] stored = objects.get(bucket + "/" + name);
                status = stored == null ? 404 : 200;
                body = stored == null ? error(404, "No such object: " + bucket + "/" + name)
                        : describe(bucket, name, stored).toString();
            } else {
                status = 404;
                body = error(404, "Not Found");
            }
        } catch (RuntimeException e) {
            status = 400;
            body = error(400, String.valueOf(e.getMessage()));
        }
        calls.add(new Call(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), status));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    /** 200, or 401 for a missing, unknown, expired or revoked bearer token. */
    private int authorized(HttpExchange exchange) {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            return 401;
        }
        String token = authorization.substring("Bearer ".length());
        Instant expires = tokens.get(token);
        if (expires == null || Instant.now().isAfter(expires) || revoked.contains(tokenAccounts.get(token))) {
            return 401;
        }
        return 200;
    }

    private String[] token(Map<String, String> form) {
        if (!GRANT.equals(form.get("grant_type")) || form.get("assertion") == null) {
            return new String[] {"400", "{\"error\":\"unsupported_grant_type\"}"};
        }
        String[] parts = form.get("assertion").split("\\.");
        if (parts.length != 3) {
            return new String[] {"400", "{\"error\":\"invalid_grant\",\"error_description\":\"not a JWT\"}"};
        }
        JsonNode header = json(Base64.getUrlDecoder().decode(parts[0]));
        JsonNode claims = json(Base64.getUrlDecoder().decode(parts[1]));
        PublicKey key = accounts.get(claims.path("iss").asText());
        long now = Instant.now().getEpochSecond();
        String problem = !"RS256".equals(header.path("alg").asText()) ? "alg must be RS256"
                : key == null ? "unknown iss"
                : !verifies(key, parts) ? "Invalid JWT Signature."
                : !GOOGLE_TOKEN_URI.equals(claims.path("aud").asText()) ? "aud must be " + GOOGLE_TOKEN_URI
                : !claims.path("scope").asText().contains("https://www.googleapis.com/auth/devstorage")
                        ? "no Cloud Storage scope"
                : claims.path("iat").asLong() > now + 60 || claims.path("exp").asLong() < now
                        || claims.path("exp").asLong() - claims.path("iat").asLong() > 3600 ? "Invalid JWT: times"
                : null;
        if (problem != null) {
            return new String[] {"400", "{\"error\":\"invalid_grant\",\"error_description\":\"" + problem + "\"}"};
        }
        String token = "ya29.loopback-" + issued.incrementAndGet();
        Duration lifetime = tokenLifetime;
        tokens.put(token, Instant.now().plus(lifetime));
        tokenAccounts.put(token, claims.path("iss").asText());
        return new String[] {"200", "{\"access_token\":\"" + token + "\",\"expires_in\":" + lifetime.toSeconds()
                + ",\"token_type\":\"Bearer\"}"};
    }

    private static boolean verifies(PublicKey key, String[] jwt) {
        try {
            Signature signature = Signature.getInstance("SHA256withRSA");
            signature.initVerify(key);
            signature.update((jwt[0] + "." + jwt[1]).getBytes(StandardCharsets.US_ASCII));
            return signature.verify(Base64.getUrlDecoder().decode(jwt[2]));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    private String[] upload(String bucket, Map<String, String> query, HttpExchange exchange) throws IOException {
        byte[] raw = read(exchange);
        String contentType = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type"));
        JsonNode metadata;
        byte[] media;
        String mediaType;
        if ("multipart".equals(query.get("uploadType")) && contentType.startsWith("multipart/related")) {
            List<byte[][]> parts = multipart(raw, contentType);
            if (parts.size() != 2) {
                return new String[] {"400", error(400, "multipart upload needs metadata and media")};
            }
            metadata = json(parts.get(0)[1]);
            media = parts.get(1)[1];
            mediaType = new String(parts.get(1)[0], StandardCharsets.UTF_8);
        } else if ("media".equals(query.get("uploadType"))) {
            metadata = JSON.createObjectNode().put("name", query.get("name"));
            media = raw;
            mediaType = "content-type: " + contentType;
        } else {
            return new String[] {"400", error(400, "uploadType must be media or multipart")};
        }
        String name = metadata.path("name").asText(null);
        if (name == null || name.isEmpty()) {
            return new String[] {"400", error(400, "Required: name")};
        }
        if (!mediaType.toLowerCase().contains("content-type: application/json")
                || (metadata.has("contentType") && !"application/json".equals(metadata.get("contentType").asText()))) {
            return new String[] {"400", error(400, "contentType must be application/json, was " + mediaType)};
        }
        json(media);
        if (metadata.has("md5Hash") && !md5(media).equals(metadata.get("md5Hash").asText())) {
            return new String[] {"400", error(400, "Provided MD5 hash does not match the data.")};
        }
        String key = bucket + "/" + name;
        synchronized (objects) {
            boolean exists = objects.containsKey(key);
            if (exists && lockedBuckets.contains(bucket)) {
                // which of this and the 412 GCS checks first is not documented: this way both paths are exercised
                return new String[] {"403", error(403, "Object '" + name + "' is subject to bucket's retention "
                        + "policy or object retention and cannot be deleted or overwritten", "retentionPolicyNotMet")};
            }
            if (exists && "0".equals(query.get("ifGenerationMatch"))) {
                return new String[] {"412", error(412, "At least one of the pre-conditions you specified did not hold.",
                        "conditionNotMet")};
            }
            objects.put(key, media);
        }
        return new String[] {"200", describe(bucket, name, media).toString()};
    }

    private static ObjectNode describe(String bucket, String name, byte[] body) {
        return JSON.createObjectNode().put("kind", "storage#object").put("bucket", bucket).put("name", name)
                .put("id", bucket + "/" + name + "/1").put("generation", "1").put("metageneration", "1")
                .put("contentType", "application/json").put("size", String.valueOf(body.length))
                .put("md5Hash", md5(body));
    }

    /** The parts of a multipart/related body: each its header block and its content. */
    private static List<byte[][]> multipart(byte[] body, String contentType) {
        Matcher boundary = Pattern.compile("boundary=\"?([^\";]+)\"?").matcher(contentType);
        if (!boundary.find()) {
            throw new IllegalArgumentException("multipart without boundary");
        }
        String text = new String(body, StandardCharsets.ISO_8859_1);
        String delimiter = "--" + boundary.group(1);
        List<byte[][]> parts = new ArrayList<>();
        String[] chunks = text.split(Pattern.quote(delimiter));
        for (int i = 1; i < chunks.length; i++) {
            String chunk = chunks[i];
            if (chunk.startsWith("--")) {
                break;
            }
            chunk = chunk.substring(chunk.indexOf("\r\n") + 2);
            int end = chunk.indexOf("\r\n\r\n");
            String headers = chunk.substring(0, end);
            String content = chunk.substring(end + 4);
            if (content.endsWith("\r\n")) {
                content = content.substring(0, content.length() - 2);
            }
            parts.add(new byte[][] {headers.getBytes(StandardCharsets.ISO_8859_1),
                    content.getBytes(StandardCharsets.ISO_8859_1)});
        }
        return parts;
    }

    private static byte[] read(HttpExchange exchange) throws IOException {
        InputStream in = exchange.getRequestBody();
        if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
            in = new GZIPInputStream(in);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }

    private static Map<String, String> form(String encoded) {
        Map<String, String> form = new HashMap<>();
        if (encoded == null || encoded.isEmpty()) {
            return form;
        }
        for (String pair : encoded.split("&")) {
            String[] kv = pair.split("=", 2);
            form.put(decode(kv[0]), kv.length > 1 ? decode(kv[1]) : "");
        }
        return form;
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }

    private static JsonNode json(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage());
        }
    }

    private static String md5(byte[] body) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String error(int code, String message) {
        return error(code, message, code == 401 ? "authError" : "invalid");
    }

    private static String error(int code, String message, String reason) {
        ObjectNode error = JSON.createObjectNode();
        ObjectNode inner = error.putObject("error").put("code", code).put("message", message);
        inner.putArray("errors").addObject().put("message", message).put("domain", "global").put("reason", reason);
        return error.toString();
    }
}
