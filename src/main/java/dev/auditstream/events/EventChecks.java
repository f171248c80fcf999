package dev.auditstream.events;

import java.sql.SQLException;

import dev.auditstream.organizations.Organizations;
import dev.auditstream.schemas.ActionSchemas;

/**
 * Every check an incoming event passes before it is stored, as one route step on the ingest path: the API's event
 * rules, an organization that exists, and its action's schema. Each answers a refusal with its 4xx.
 */
public final class EventChecks {

    private final EventValidator validator;
    private final Organizations organizations;
    private final ActionSchemas schemas;

    public EventChecks(EventValidator validator, Organizations organizations, ActionSchemas schemas) {
        this.validator = validator;
        this.organizations = organizations;
        this.schemas = schemas;
    }

    /** Route step: the request body as an event ready to store. */
    public IncomingEvent check(byte[] body) throws SQLException {
        IncomingEvent event = validator.validate(body);
        organizations.requireExisting(event.organizationId());
        schemas.validate(event);
        return event;
    }
}
