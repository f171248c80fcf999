package dev.auditstream.outbound;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.camel.Service;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The one HTTP client destinations are called with (deliveries, test events). Its options are set here and by the
 * operator, never by a request: connections pooled per host with keep-alive, each made to an address the
 * {@link AddressGuard} checked; fixed connect and read time-outs and a hard deadline per attempt; no redirects, no
 * cookies, no authentication exchanges, no retries (retrying is the stream state machine's); at most
 * {@link #MAX_ANSWER_BYTES} of an answer read.
 */
public final class OutboundHttp implements Service {

    public static final int MAX_ANSWER_BYTES = 64 * 1024;
    private static final String USER_AGENT = "AuditStream";

    /** The operator's limits (application.properties {@code auditstream.outbound.*}). */
    public record Settings(Duration connectTimeout, Duration responseTimeout, Duration deadline,
                           int connectionsPerHost, int maxConnections) {
    }

    private final CloseableHttpClient client;
    private final Duration deadline;
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "outbound-deadlines");
        thread.setDaemon(true);
        return thread;
    });

    public OutboundHttp(AddressGuard guard, Settings settings) {
        this.deadline = settings.deadline();
        this.client = pooledClient(guard, settings);
    }

    /**
     * A client with this class's rules, whose connections go to the addresses the guard returns. Key material of a
     * stream's own (mutual TLS) would be a TLS strategy on another such client; an egress proxy, a route planner.
     */
    private static CloseableHttpClient pooledClient(AddressGuard guard, Settings settings) {
        Timeout connect = Timeout.of(settings.connectTimeout());
        Timeout response = Timeout.of(settings.responseTimeout());
        return HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDnsResolver(guard)
                        .setMaxConnPerRoute(settings.connectionsPerHost())
                        .setMaxConnTotal(settings.maxConnections())
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(connect)
                                .setSocketTimeout(response)
                                // a pooled connection the destination closed meanwhile is noticed before it is used
                                .setValidateAfterInactivity(TimeValue.ofSeconds(2))
                                .build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(connect)
                        .setResponseTimeout(response)
                        .setRedirectsEnabled(false)
                        .setAuthenticationEnabled(false)
                        .build())
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableAutomaticRetries()
                // bodies go out as the destination formatted them (Datadog's gzipped already) and answers are read raw
                .disableContentCompression()
                .setUserAgent(USER_AGENT)
                .evictIdleConnections(TimeValue.ofSeconds(30))
                .evictExpiredConnections()
                .build();
    }

    /**
     * Sends the request; the answer when it is 2xx, else an {@link ErrorAnswerException} carrying it. An
     * {@link IOException} when the destination cannot be reached or does not answer within the deadline (a DNS
     * failure is an {@link java.net.UnknownHostException}); an {@link UnsafeDestinationException} when its host is,
     * or now resolves to, an address destinations may not be.
     */
    public OutboundResponse send(OutboundRequest request) throws IOException, ErrorAnswerException {
        HttpUriRequestBase http = new HttpUriRequestBase(request.method(), request.uri());
        request.headers().forEach(header -> http.addHeader(header.name(), header.value()));
        http.setEntity(new ByteArrayEntity(request.body(), null));
        AtomicBoolean late = new AtomicBoolean();
        ScheduledFuture<?> abort = deadlines.schedule(() -> {
            late.set(true);
            http.cancel();
        }, deadline.toMillis(), TimeUnit.MILLISECONDS);
        ClassicHttpResponse response = null;
        try {
            response = client.executeOpen(null, http, null);
            OutboundResponse answer = new OutboundResponse(response.getCode(), headers(response),
                    read(response.getEntity(), http));
            if (answer.status() < 200 || answer.status() > 299) {
                throw new ErrorAnswerException(answer);
            }
            return answer;
        } catch (IOException e) {
            if (late.get()) {
                InterruptedIOException cutOff = new InterruptedIOException(
                        "No complete answer within " + deadline.toMillis() + " ms");
                cutOff.initCause(e);
                throw cutOff;
            }
            throw e;
        } finally {
            abort.cancel(false);
            release(response);
        }
    }

    /** Once the answer is read, the connection was returned to the pool, or it is discarded now. */
    private static void release(ClassicHttpResponse response) {
        if (response != null) {
            try {
                response.close();
            } catch (IOException discarded) {
                // the connection is gone either way; the answer was read
            }
        }
    }

    private static Map<String, String> headers(ClassicHttpResponse response) {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (Header header : response.getHeaders()) {
            headers.putIfAbsent(header.getName(), header.getValue());
        }
        return headers;
    }

    /**
     * The answer's body up to the limit. Read to its end, the connection goes back to the pool; an answer longer than
     * the limit is cut off with its connection (closing it normally would read the rest).
     */
    private static byte[] read(HttpEntity entity, HttpUriRequestBase http) throws IOException {
        if (entity == null) {
            return new byte[0];
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        InputStream in = entity.getContent();
        int n;
        while ((n = in.read(buffer)) >= 0) {
            body.write(buffer, 0, Math.min(n, MAX_ANSWER_BYTES - body.size()));
            if (body.size() >= MAX_ANSWER_BYTES) {
                http.cancel();
                break;
            }
        }
        return body.toByteArray();
    }

    @Override
    public void start() {
        // built ready in the constructor
    }

    @Override
    public void stop() {
        deadlines.shutdownNow();
        client.close(CloseMode.GRACEFUL);
    }
}
