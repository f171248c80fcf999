package dev.auditstream.support;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.auditstream.outbound.HostResolver;

/**
 * The DNS as a test tells it, as the service's {@code hostResolver} bean: a host it was told nothing about does not
 * resolve (SERVFAIL), and an answer can change between two lookups (rebinding).
 */
public final class TestDns implements HostResolver {

    private final Map<String, InetAddress[]> answers = new ConcurrentHashMap<>();

    public void answer(String host, InetAddress... addresses) {
        answers.put(host, addresses);
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress[] answer = answers.get(host);
        if (answer == null) {
            throw new UnknownHostException(host + ": SERVFAIL");
        }
        return answer;
    }
}
