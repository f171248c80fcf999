package dev.auditstream.destinations;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One kind of stream destination: its config rules. How events are sent is {@link HttpDestination} (one request
 * per batch) or {@link ObjectStoreDestination} (one object per event). Adding a destination is one class, registered
 * in {@link Destinations}; the delivery routes are the same for all.
 */
public interface Destination {

    /** The stream {@code type} of the API, e.g. {@code Datadog}. */
    String type();

    /** JSON pointers of the config members that are secrets: encrypted at rest, masked in every response. */
    List<String> secretPointers();

    /** The config member naming where events go; see {@link #credentialsSentToUrl}. */
    default String urlMember() {
        return "url";
    }

    /**
     * JSON pointers of the secrets sent to (or whose tokens go to) the config's {@link #urlMember()}: a change of the URL drops them unless the change
     * gives them again. Empty where the service chooses where events go.
     */
    default List<String> credentialsSentToUrl() {
        return List.of();
    }

    /**
     * Checks the config: values that are wrong are added to {@code checks} (the request is refused with 422);
     * required members that are absent are returned (the stream is kept {@code inactive} until they are given).
     */
    List<String> check(ObjectNode config, ConfigChecks checks);

    /**
     * Members the service generates when a stream is created (a signing secret, an external ID): clients cannot set
     * them, and the create answer shows them in clear once, secrets included.
     */
    default Map<String, String> generate() {
        return Map.of();
    }

    /** Members only the service sets: the generated ones, and what a rotation of them keeps. */
    default Set<String> readOnlyMembers() {
        return generate().keySet();
    }

    /**
     * A new generated secret in place of the old one, which stays valid until {@code until} (a signing secret
     * rotation), or null when the destination has nothing to rotate. Returns the new secret.
     */
    default String rotateSecret(ObjectNode config, Instant until) {
        return null;
    }

    /**
     * What the customer sets up on the destination's side for this config (policies, schemas to paste), or null
     * when there is nothing to paste.
     */
    default ObjectNode setup(JsonNode config) {
        return null;
    }
}
