package dev.auditstream.outbound;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;

import org.apache.camel.Service;
import org.apache.camel.Variable;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SchemePortResolver;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.HttpClientConnectionOperator;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The one HTTP client destinations are called with (deliveries, test events). Its options are set here and by the
 * operator, never by a request: connections pooled per host with keep-alive, each made to an address the
 * {@link AddressGuard} checked; fixed connect and read time-outs and a hard deadline per attempt; no redirects, no
 * cookies, no authentication exchanges, no retries (retrying is the stream state machine's); at most
 * {@link #MAX_ANSWER_BYTES} of an answer read. A request with a {@link ClientIdentity} (mutual TLS) goes through
 * that identity's own client, same rules, built once per identity and owner and closed when the owner's identity
 * changes or it was not used for {@link #IDLE_IDENTITY}. With an {@link EgressProxy}, every connection (TLS to the
 * destination's name inside) goes through a {@link ProxyTunnel} to the checked address, unless NO_PROXY names it.
 */
public final class OutboundHttp implements Service {

    public static final int MAX_ANSWER_BYTES = 64 * 1024;
    private static final String USER_AGENT = "AuditStream";
    private static final Duration IDLE_IDENTITY = Duration.ofMinutes(10);

    /**
     * The endpoint closed the connection while a TLS handshake presenting a client identity was going on: many
     * servers refuse a client certificate so, without the alert that would say it.
     */
    public static final class ClosedInHandshakeException extends SSLHandshakeException {
        ClosedInHandshakeException(IOException closed) {
            super("The endpoint closed the connection during the TLS handshake (" + closed.getMessage() + ")");
            initCause(closed);
        }
    }

    /** The operator's limits (application.properties {@code auditstream.outbound.*}). */
    public record Settings(Duration connectTimeout, Duration responseTimeout, Duration deadline,
                           int connectionsPerHost, int maxConnections) {
    }

    private record IdentityClient(String fingerprint, CloseableHttpClient client, AtomicLong lastUsed) {
    }

    private final AddressGuard guard;
    private final Settings settings;
    private final EgressProxy proxy;
    private final CloseableHttpClient client;
    private final Map<String, IdentityClient> byOwner = new ConcurrentHashMap<>();
    private final Duration deadline;
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "outbound-deadlines");
        thread.setDaemon(true);
        return thread;
    });

    /** A client connecting directly. */
    public OutboundHttp(AddressGuard guard, Settings settings) {
        this(guard, settings, null);
    }

    /** @param proxy the egress proxy connections go through; null for direct connections */
    public OutboundHttp(AddressGuard guard, Settings settings, EgressProxy proxy) {
        this.guard = guard;
        this.settings = settings;
        this.proxy = proxy;
        this.deadline = settings.deadline();
        this.client = pooledClient(guard, settings, proxy, null);
        deadlines.scheduleWithFixedDelay(this::closeIdleIdentities, 1, 1, TimeUnit.MINUTES);
    }

    /**
     * A client with this class's rules, whose connections go to the addresses the guard returns; with a TLS context
     * of a stream's own when it has a client identity (null: the JDK's default).
     */
    private static CloseableHttpClient pooledClient(AddressGuard guard, Settings settings, EgressProxy proxy,
                                                    SSLContext tls) {
        Timeout connect = Timeout.of(settings.connectTimeout());
        Timeout response = Timeout.of(settings.responseTimeout());
        PoolingHttpClientConnectionManagerBuilder connections = proxy == null
                ? PoolingHttpClientConnectionManagerBuilder.create() : new PoolingHttpClientConnectionManagerBuilder() {
                    @Override
                    protected HttpClientConnectionOperator createConnectionOperator(
                            SchemePortResolver ports, DnsResolver dns, TlsSocketStrategy tlsStrategy) {
                        // the route stays direct, so the guard resolves and checks the destination as without a
                        // proxy; only the socket's connect goes through the tunnel
                        return new DefaultHttpClientConnectionOperator(socks -> new ProxyTunnel(proxy),
                                ports, dns, RegistryBuilder.<TlsSocketStrategy>create()
                                        .register(URIScheme.HTTPS.id, tlsStrategy != null ? tlsStrategy
                                                : DefaultClientTlsStrategy.createDefault())
                                        .build());
                    }
                };
        if (tls != null) {
            // the default hostname verification stays: the identity adds a key and trust, never less checking
            connections.setTlsSocketStrategy(new DefaultClientTlsStrategy(tls) {
                @Override
                public SSLSocket upgrade(Socket socket, String target, int port, Object attachment,
                                         HttpContext context) throws IOException {
                    try {
                        return super.upgrade(socket, target, port, attachment, context);
                    } catch (IOException e) {
                        // the JDK reports such a close as itself, or as a handshake failure caused by it
                        Throwable why = e instanceof SSLHandshakeException && e.getCause() != null ? e.getCause() : e;
                        if (why instanceof SocketException || why instanceof EOFException) {
                            throw new ClosedInHandshakeException(e);
                        }
                        throw e;
                    }
                }
            });
        }
        return HttpClients.custom()
                .setConnectionManager(connections
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
    public OutboundResponse send(@Variable("request") OutboundRequest request) throws IOException, ErrorAnswerException {
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
            response = clientFor(request.identity()).executeOpen(null, http, null);
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

    /** The shared client, or the identity's own, built now when its owner had none or another identity. */
    private CloseableHttpClient clientFor(ClientIdentity identity) throws IOException {
        if (identity == null) {
            return client;
        }
        IdentityClient current = byOwner.get(identity.owner());
        if (current == null || !current.fingerprint().equals(identity.fingerprint())) {
            synchronized (byOwner) {
                current = byOwner.get(identity.owner());
                if (current == null || !current.fingerprint().equals(identity.fingerprint())) {
                    SSLContext tls;
                    try {
                        tls = identity.sslContext();
                    } catch (GeneralSecurityException e) {
                        throw new IOException("The client certificate and key cannot be used for TLS: " + e.getMessage(), e);
                    }
                    IdentityClient fresh = new IdentityClient(identity.fingerprint(), pooledClient(guard, settings, proxy, tls),
                            new AtomicLong(System.nanoTime()));
                    byOwner.put(identity.owner(), fresh);
                    if (current != null) {
                        // the owner's identity changed: its old connections go (a request still on one fails, retried)
                        current.client().close(CloseMode.GRACEFUL);
                    }
                    current = fresh;
                }
            }
        }
        current.lastUsed().set(System.nanoTime());
        return current.client();
    }

    private void closeIdleIdentities() {
        long now = System.nanoTime();
        synchronized (byOwner) {
            byOwner.values().removeIf(idle -> {
                boolean gone = now - idle.lastUsed().get() > IDLE_IDENTITY.toNanos();
                if (gone) {
                    idle.client().close(CloseMode.GRACEFUL);
                }
                return gone;
            });
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
        synchronized (byOwner) {
            byOwner.values().forEach(owned -> owned.client().close(CloseMode.GRACEFUL));
            byOwner.clear();
        }
    }
}
