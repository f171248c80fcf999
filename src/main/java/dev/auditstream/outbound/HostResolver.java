package dev.auditstream.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Looks up the addresses of a destination's host name. Bound in the Camel registry as {@code hostResolver} to replace
 * the JVM's resolver (tests answer with addresses of their choosing).
 */
@FunctionalInterface
public interface HostResolver {

    /** Every address of the host; an {@link UnknownHostException} for no answer, SERVFAIL or a time-out. */
    InetAddress[] resolve(String host) throws UnknownHostException;

    static HostResolver system() {
        return InetAddress::getAllByName;
    }
}
