package dev.auditstream.outbound;

/** The destination answered with a status other than 2xx (redirects are not followed, so 3xx too). */
public final class ErrorAnswerException extends Exception {

    private final transient OutboundResponse answer;

    public ErrorAnswerException(OutboundResponse answer) {
        // the body stays out of the message: it may echo what was sent
        super("HTTP " + answer.status(), null, false, false);
        this.answer = answer;
    }

    public OutboundResponse answer() {
        return answer;
    }
}
