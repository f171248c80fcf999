package dev.auditstream.outbound;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A socket whose connect goes through the egress proxy: it connects to the proxy and asks it for
 * {@code CONNECT <address>:<port>}, the address the {@link AddressGuard} checked (never the name, so the proxy resolves
 * nothing), and then carries the connection's bytes; TLS is layered over it for the destination's name as on a direct
 * connection. A destination the proxy's NO_PROXY list names is connected to directly.
 */
final class ProxyTunnel extends Socket {

    private static final int MAX_ANSWER_HEAD = 8 * 1024;

    /** The proxy refused the tunnel or did not answer as a proxy: our side's failure, retried like a lost connection. */
    static final class RefusedException extends IOException {
        RefusedException(String message) {
            super(message);
        }
    }

    private final EgressProxy proxy;

    ProxyTunnel(EgressProxy proxy) {
        this.proxy = proxy;
    }

    /**
     * @param endpoint the checked address with the host name it was resolved for (see {@link AddressGuard#resolve})
     */
    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        InetSocketAddress destination = (InetSocketAddress) endpoint;
        InetAddress address = destination.getAddress();
        if (address == null || proxy.bypasses(destination.getHostString(), address)) {
            super.connect(endpoint, timeout);
            return;
        }
        super.connect(proxy.address(), timeout);
        int readTimeout = getSoTimeout();
        setSoTimeout(timeout);
        String target = (address.getAddress().length == 16 ? "[" + address.getHostAddress() + "]"
                : address.getHostAddress()) + ":" + destination.getPort();
        StringBuilder request = new StringBuilder("CONNECT ").append(target).append(" HTTP/1.1\r\nHost: ")
                .append(target).append("\r\n");
        if (proxy.authorization() != null) {
            request.append("Proxy-Authorization: ").append(proxy.authorization()).append("\r\n");
        }
        OutputStream out = getOutputStream();
        out.write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String status = statusLine(getInputStream());
        String[] parts = status == null ? new String[0] : status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].equals("200")) {
            close();
            throw new RefusedException("The egress proxy " + proxy + " refused CONNECT " + target + ": "
                    + (status == null ? "it closed the connection" : status)
                    + (parts.length > 1 && parts[1].equals("407") ? " (check the proxy user and password)" : ""));
        }
        setSoTimeout(readTimeout);
    }

    /**
     * The status line of the proxy's answer, its headers read to their end one byte at a time so that nothing of the
     * tunnel's first bytes is taken; null when the proxy closed the connection before its answer's end.
     */
    private String statusLine(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
            if (head.size() > MAX_ANSWER_HEAD) {
                close();
                throw new RefusedException("The egress proxy " + proxy + " answered CONNECT with more than "
                        + MAX_ANSWER_HEAD + " bytes of headers");
            }
        }
        if (matched < 4) {
            return null;
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n");
        return (end < 0 ? text : text.substring(0, end)).trim();
    }
}
