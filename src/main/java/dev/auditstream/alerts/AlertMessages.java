package dev.auditstream.alerts;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The alert email's subject, plain text and HTML, built from the alert's typed values only. Customer strings (stream
 * and organization names, a destination's answer) are text everywhere: HTML-escaped in the HTML part, and kept on
 * one line of printable characters in the subject.
 */
public final class AlertMessages {

    /** Longest subject, in characters; a longer one is cut. */
    static final int MAX_SUBJECT = 200;

    /** One email. */
    public record Mail(String subject, String text, String html) {
    }

    private AlertMessages() {
    }

    /**
     * @param kind      {@code invalid}, {@code error}, {@code dead_lettered} or {@code recovered}
     * @param data      the alert's data: organization and stream names, stream type, reason, at
     * @param portalUrl where the contacts open the Admin Portal
     */
    public static Mail compose(String kind, JsonNode data, String portalUrl) {
        String stream = data.path("stream_name").asText();
        String type = data.path("stream_type").asText();
        String organization = data.path("organization_name").asText();
        String reason = data.path("reason").asText(null);
        String at = data.path("at").asText();
        String what;
        String next;
        String headline;
        switch (kind) {
            case "invalid" -> {
                headline = "stopped: the destination refused it";
                what = "stopped delivering: the destination refused its credentials or configuration.";
                next = "Events are kept and wait for the stream. Check the destination's credentials and settings, "
                        + "then update the stream; it is retried at once, and probed every few minutes until then.";
            }
            case "error" -> {
                headline = "has been failing since " + at;
                what = "has been failing since " + at + ": the destination could not be reached or did not accept "
                        + "the events.";
                next = "Events are kept and retried with backoff; they are delivered once the destination accepts "
                        + "them again (within your retention period).";
            }
            case "dead_lettered" -> {
                headline = "the destination refused an event";
                what = "delivers, but the destination refused an event on its own (event "
                        + data.path("event_id").asText() + "), which was set aside as a dead letter.";
                next = "Dead letters can be sent again from the stream's settings once the destination accepts them.";
            }
            case "recovered" -> {
                headline = "delivers again";
                what = "delivers again: the destination accepted events at " + at + ".";
                next = "Nothing more to do; events that waited are being delivered.";
                reason = null;
            }
            default -> throw new IllegalArgumentException("Unknown alert kind " + kind);
        }
        String subject = oneLine("Audit log stream \"" + stream + "\" of " + organization + " " + headline);
        String portalHint = "To see or change the stream, open the log stream settings: " + portalUrl
                + " (with an expired session, ask the people who set up audit logs for you for a new setup link).";

        StringBuilder text = new StringBuilder()
                .append("The audit log stream \"").append(stream).append("\" (").append(type).append(") of ")
                .append(organization).append(' ').append(what).append("\n\n");
        if (reason != null) {
            text.append("Reason: ").append(reason).append('\n');
        }
        text.append("Stream: ").append(data.path("stream_id").asText()).append('\n')
                .append("Organization: ").append(organization).append(" (").append(data.path("organization_id").asText())
                .append(")\n\n").append(next).append("\n\n").append(portalHint).append('\n');

        StringBuilder html = new StringBuilder("<!doctype html><html><body style=\"font-family:sans-serif\">")
                .append("<p>The audit log stream <strong>").append(escape(stream)).append("</strong> (")
                .append(escape(type)).append(") of ").append(escape(organization)).append(' ').append(escape(what))
                .append("</p>");
        if (reason != null) {
            html.append("<p>Reason: <code>").append(escape(reason)).append("</code></p>");
        }
        html.append("<p>Stream: ").append(escape(data.path("stream_id").asText())).append("<br>Organization: ")
                .append(escape(organization)).append(" (").append(escape(data.path("organization_id").asText()))
                .append(")</p><p>").append(escape(next)).append("</p><p>To see or change the stream, open the <a href=\"")
                .append(escape(portalUrl)).append("\">log stream settings</a> (with an expired session, ask the "
                        + "people who set up audit logs for you for a new setup link).</p></body></html>");
        return new Mail(subject, text.toString(), html.toString());
    }

    /** Text for a header: control characters (CR and LF among them) become spaces, and it is cut to its limit. */
    static String oneLine(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> out.appendCodePoint(Character.isISOControl(cp)
                || Character.getType(cp) == Character.LINE_SEPARATOR
                || Character.getType(cp) == Character.PARAGRAPH_SEPARATOR ? ' ' : cp));
        String line = out.toString();
        if (line.codePointCount(0, line.length()) <= MAX_SUBJECT) {
            return line;
        }
        return line.substring(0, line.offsetByCodePoints(0, MAX_SUBJECT - 1)) + "…";
    }

    /** HTML text and attribute escaping. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char ch : text.toCharArray()) {
            switch (ch) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(ch);
            }
        }
        return out.toString();
    }
}
