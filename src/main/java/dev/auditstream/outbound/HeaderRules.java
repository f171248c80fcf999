package dev.auditstream.outbound;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a customer may put into a request's headers: a custom header name that is an HTTP token and none the protocol,
 * the service or Camel owns; and values without line breaks or other control characters.
 */
public final class HeaderRules {

    public static final int MAX_NAME_LENGTH = 64;
    /** RFC 7230's token: the characters a header name is made of. */
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Set<String> RESERVED = Set.of("host", "connection", "keep-alive", "transfer-encoding", "te",
            "trailer", "upgrade", "expect", "cookie", "cookie2", "set-cookie", "authorization", "user-agent", "date",
            "via", "max-forwards", "forwarded");
    /** Prefixes of names owned by Camel, the message framing, proxies and the webhook signature. */
    private static final Set<String> RESERVED_PREFIXES = Set.of("camel", "content-", "proxy-", "webhook-");

    private HeaderRules() {
    }

    /** What is wrong with a custom header name, or null when it may be used. */
    public static String nameProblem(String name) {
        if (name.length() > MAX_NAME_LENGTH || !TOKEN.matcher(name).matches()) {
            return "must be a header name of at most " + MAX_NAME_LENGTH
                    + " letters, digits and !#$%&'*+.^_`|~- (no spaces or colons)";
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (RESERVED.contains(lower) || RESERVED_PREFIXES.stream().anyMatch(lower::startsWith)) {
            return "may not be " + name + ": that header belongs to the protocol or the service"
                    + (lower.equals("authorization") ? " (use auth type bearer or basic)" : "");
        }
        return null;
    }

    /** What is wrong with a value sent as (part of) a header, or null: visible ASCII and spaces only. */
    public static String valueProblem(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return "may contain only printable ASCII characters (no line breaks or control characters)";
            }
        }
        return null;
    }

    /** What is wrong with a value that is encoded before it is sent (a basic-auth password), or null. */
    public static String encodedValueProblem(String value) {
        return value.chars().anyMatch(Character::isISOControl) ? "may not contain line breaks or control characters"
                : null;
    }
}
