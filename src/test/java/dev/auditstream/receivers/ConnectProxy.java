package dev.auditstream.receivers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An HTTP CONNECT proxy on loopback: it records the target of every CONNECT (as the client wrote it), answers 407
 * when the request lacks the Proxy-Authorization it requires, and tunnels to the target, or to the loopback port a
 * test routed that target to (so a public address the service checked can reach a local receiver).
 */
public final class ConnectProxy implements AutoCloseable {

    private final ServerSocket socket;
    private final String requiredAuthorization;
    private final List<String> targets = new CopyOnWriteArrayList<>();
    private final List<String> refused = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> routes = new ConcurrentHashMap<>();

    private ConnectProxy(String user, String password) throws IOException {
        requiredAuthorization = user == null ? null : "Basic " + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptAll, "connect-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A proxy without authentication. */
    public static ConnectProxy start() throws IOException {
        return new ConnectProxy(null, null);
    }

    /** A proxy that tunnels only for {@code Proxy-Authorization: Basic} with this user and password. */
    public static ConnectProxy start(String user, String password) throws IOException {
        return new ConnectProxy(user, password);
    }

    public String url() {
        return "http://127.0.0.1:" + socket.getLocalPort();
    }

    /** CONNECTs to {@code target} ({@code host:port} as the client asks for it) go to this loopback port instead. */
    public void route(String target, int loopbackPort) {
        routes.put(target, loopbackPort);
    }

    /** Every target tunnelled to, in order. */
    public List<String> targets() {
        return List.copyOf(targets);
    }

    /** Every target refused for want of the right credentials. */
    public List<String> refused() {
        return List.copyOf(refused);
    }

    private void acceptAll() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Thread connection = new Thread(() -> serve(client), "connect-proxy-connection");
                connection.setDaemon(true);
                connection.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            String[] head = head(in).split("\r\n");
            String[] request = head[0].split(" ");
            if (request.length != 3 || !request[0].equals("CONNECT")) {
                answer(out, "405 Method Not Allowed", "");
                return;
            }
            String target = request[1];
            String authorization = null;
            for (String line : head) {
                if (line.regionMatches(true, 0, "Proxy-Authorization:", 0, 20)) {
                    authorization = line.substring(20).trim();
                }
            }
            if (requiredAuthorization != null && !requiredAuthorization.equals(authorization)) {
                refused.add(target);
                answer(out, "407 Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"egress\"\r\n");
                return;
            }
            targets.add(target);
            Integer routed = routes.get(target);
            int colon = target.lastIndexOf(':');
            InetSocketAddress upstream = routed != null
                    ? new InetSocketAddress(InetAddress.getLoopbackAddress(), routed)
                    : new InetSocketAddress(target.substring(0, colon).replaceAll("^\\[|\\]$", ""),
                            Integer.parseInt(target.substring(colon + 1)));
            try (Socket server = new Socket()) {
                try {
                    server.connect(upstream, 5000);
                } catch (IOException unreachable) {
                    answer(out, "502 Bad Gateway", "");
                    return;
                }
                out.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Thread upload = new Thread(() -> pipe(in, server), "connect-proxy-upload");
                upload.setDaemon(true);
                upload.start();
                pipe(server.getInputStream(), client);
                upload.join();
            }
        } catch (IOException | InterruptedException | RuntimeException gone) {
            // the client or the server went away: the tunnel ends
        }
    }

    private static void pipe(InputStream from, Socket to) {
        try {
            from.transferTo(to.getOutputStream());
            to.shutdownOutput();
        } catch (IOException gone) {
            // either side closed
        }
    }

    private static void answer(OutputStream out, String status, String headers) throws IOException {
        out.write(("HTTP/1.1 " + status + "\r\n" + headers + "Content-Length: 0\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            if (head.size() >= 4 && head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                break;
            }
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
