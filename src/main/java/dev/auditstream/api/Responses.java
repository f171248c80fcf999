package dev.auditstream.api;

/** Small route steps shared by the API routes. */
public final class Responses {

    /** Passes a looked-up body through, or answers 404 when the lookup found nothing. */
    public Object requireFound(Object body, String what, String id) {
        if (body == null) {
            throw ApiException.notFound(what, id);
        }
        return body;
    }
}
