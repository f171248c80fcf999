package dev.auditstream.outbound;

import static dev.auditstream.outbound.OutboundRequest.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The outbound client against raw loopback sockets: where it connects, and what bounds an attempt. */
class OutboundHttpTest {

    private static final OutboundHttp.Settings SETTINGS = new OutboundHttp.Settings(Duration.ofSeconds(2),
            Duration.ofSeconds(10), Duration.ofSeconds(1), 2, 10);
    private static final HostResolver LOOPBACK = host -> {
        if (host.equals("destination.test")) {
            return new InetAddress[] {InetAddress.getLoopbackAddress()};
        }
        throw new UnknownHostException(host);
    };

    private RawServer server;
    private OutboundHttp client;

    @AfterEach
    void close() throws IOException {
        if (client != null) {
            client.stop();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void connectsToTheAddressTheGuardCheckedAndSendsTheRequestAsBuilt() throws Exception {
        server = new RawServer(out -> answer(out, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}"));
        client = new OutboundHttp(new AddressGuard(LOOPBACK, true), SETTINGS);

        OutboundResponse answer = client.send(OutboundRequest.post(
                URI.create("http://destination.test:" + server.port() + "/a/%7B%7Bx%7D%7D?proxyHost=10.0.0.5&q=$x"),
                List.of(header("X-Api-Key", "{{env:HOME}}")), "body".getBytes(StandardCharsets.UTF_8)));

        assertThat(answer.status()).isEqualTo(202);
        assertThat(answer.text()).isEqualTo("{}");
        assertThat(server.request()).startsWith("POST /a/%7B%7Bx%7D%7D?proxyHost=10.0.0.5&q=$x HTTP/1.1\r\n")
                .contains("\r\nX-Api-Key: {{env:HOME}}\r\n", "\r\nUser-Agent: AuditStream\r\n")
                .doesNotContainIgnoringCase("cookie").endsWith("\r\n\r\nbody");
    }

    @Test
    void connectionsAreKeptAndReused() throws Exception {
        Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
        HttpServer keepAlive = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        keepAlive.createContext("/", exchange -> {
            clientPorts.add(exchange.getRemoteAddress().getPort());
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(202, -1);
            exchange.close();
        });
        keepAlive.start();
        client = new OutboundHttp(new AddressGuard(LOOPBACK, true), SETTINGS);
        try {
            for (int i = 0; i < 5; i++) {
                client.send(post("http://destination.test:" + keepAlive.getAddress().getPort() + "/"));
            }
        } finally {
            keepAlive.stop(0);
        }
        assertThat(clientPorts).hasSize(1);
    }

    @Test
    void addressesOfThisNetworkAreRefusedBeforeAnyConnection() throws Exception {
        server = new RawServer(out -> answer(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        client = new OutboundHttp(new AddressGuard(LOOPBACK, false), SETTINGS);
        for (String host : List.of("destination.test", "127.0.0.1", "[::1]", "0x7f.1", "2130706433", "127.1")) {
            assertThatThrownBy(() -> client.send(post("https://" + host + ":" + server.port() + "/")))
                    .as(host).isInstanceOf(UnsafeDestinationException.class);
        }
        // an ambiguous form is refused even where private addresses are allowed
        OutboundHttp allowing = new OutboundHttp(new AddressGuard(LOOPBACK, true), SETTINGS);
        assertThatThrownBy(() -> allowing.send(post("http://0x7f.1:" + server.port() + "/")))
                .isInstanceOf(UnsafeDestinationException.class).hasMessageContaining("ambiguous");
        allowing.stop();
        assertThat(server.connections()).isZero();
    }

    @Test
    void aHostThatDoesNotResolveIsAnIoFailure() {
        client = new OutboundHttp(new AddressGuard(LOOPBACK, false), SETTINGS);
        assertThatThrownBy(() -> client.send(post("https://unknown.test/"))).isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("unknown.test does not resolve");
    }

    @Test
    void anAnswerTrickledSlowerThanTheDeadlineIsCutOff() throws Exception {
        server = new RawServer(out -> {
            answer(out, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
            for (int i = 0; i < 100; i++) {
                answer(out, "x");
                sleep(200);
            }
        });
        client = new OutboundHttp(new AddressGuard(LOOPBACK, true), SETTINGS);
        assertThatThrownBy(() -> client.send(post("http://destination.test:" + server.port() + "/")))
                .isInstanceOf(InterruptedIOException.class).hasMessage("No complete answer within 1000 ms");
    }

    @Test
    void redirectsAreAnswersNotFollowedAndLongAnswersAreReadInPart() throws Exception {
        String big = "e".repeat(1 << 20);
        server = new RawServer(out -> answer(out, "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://169.254.169.254/"
                + "\r\nretry-after: 7\r\nContent-Length: " + big.length() + "\r\n\r\n" + big));
        client = new OutboundHttp(new AddressGuard(LOOPBACK, true), SETTINGS);
        assertThatThrownBy(() -> client.send(post("http://destination.test:" + server.port() + "/")))
                .isInstanceOfSatisfying(ErrorAnswerException.class, refused -> {
                    assertThat(refused.answer().status()).isEqualTo(307);
                    assertThat(refused.answer().header("Retry-After")).isEqualTo("7");
                    assertThat(refused.answer().body()).hasSize(OutboundHttp.MAX_ANSWER_BYTES);
                    assertThat(refused.getMessage()).isEqualTo("HTTP 307");
                });
        assertThat(server.connections()).isEqualTo(1);
    }

    private static OutboundRequest post(String uri) {
        return OutboundRequest.post(URI.create(uri), List.of(), new byte[0]);
    }

    private static void answer(OutputStream out, String text) {
        try {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        } catch (IOException gone) {
            throw new IllegalStateException(gone);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Answers each connection's first request as told, and keeps the first request's raw text. */
    private static final class RawServer implements AutoCloseable {

        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final AtomicInteger connections = new AtomicInteger();
        private volatile String request;

        RawServer(Consumer<OutputStream> answer) throws IOException {
            Thread thread = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket accepted = socket.accept()) {
                        connections.incrementAndGet();
                        request = readRequest(accepted.getInputStream());
                        answer.accept(accepted.getOutputStream());
                    } catch (IOException | IllegalStateException closed) {
                        // the client went away, or the server closed
                    }
                }
            }, "raw-server");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        int connections() {
            return connections.get();
        }

        String request() {
            return request;
        }

        /** The head, and a body as long as its Content-Length. */
        private static String readRequest(InputStream in) throws IOException {
            StringBuilder text = new StringBuilder();
            while (text.indexOf("\r\n\r\n") < 0) {
                int c = in.read();
                if (c < 0) {
                    return text.toString();
                }
                text.append((char) c);
            }
            java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)\r\nContent-Length: (\\d+)")
                    .matcher(text);
            int remaining = length.find() ? Integer.parseInt(length.group(1)) : 0;
            text.append(new String(in.readNBytes(remaining), StandardCharsets.ISO_8859_1));
            return text.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
