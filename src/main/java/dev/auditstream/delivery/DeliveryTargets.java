package dev.auditstream.delivery;

import dev.auditstream.streams.StreamSecrets;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.auditstream.api.Json;
import dev.auditstream.destinations.DeliveryTarget;
import dev.auditstream.destinations.Destinations;

/** Route step: a stream row as its destination needs it, secrets decrypted once per config version. */
public final class DeliveryTargets {

    private final StreamSecrets secrets;
    private final Destinations destinations;
    private final Map<String, DeliveryTarget> cache = new ConcurrentHashMap<>();

    public DeliveryTargets(StreamSecrets secrets, Destinations destinations) {
        this.secrets = secrets;
        this.destinations = destinations;
    }

    /** @param row id, organization_id, type, config (text), secrets (bytes), config_version */
    public DeliveryTarget load(Map<String, Object> row) {
        String id = (String) row.get("id");
        int version = ((Number) row.get("config_version")).intValue();
        DeliveryTarget cached = cache.get(id);
        if (cached != null && cached.configVersion() == version) {
            return cached;
        }
        String organizationId = (String) row.get("organization_id");
        if (!destinations.knows((String) row.get("type"))) {
            throw new IllegalStateException("this installation has no destination of type " + row.get("type"));
        }
        DeliveryTarget target = new DeliveryTarget(id, organizationId, (String) row.get("type"),
                secrets.reveal(Json.object(((String) row.get("config")).getBytes(StandardCharsets.UTF_8)),
                        (byte[]) row.get("secrets"), id, organizationId),
                version);
        cache.put(id, target);
        return target;
    }
}
