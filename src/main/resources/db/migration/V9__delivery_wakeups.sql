-- Delivery wake-ups: every insert statement into the audit log sends a NOTIFY naming the organizations it wrote, which
-- PostgreSQL delivers to the listening instances only once (and only if) its transaction commits, one per
-- transaction, channel and payload. An instance wakes its claim whatever the payload says; the claim timer stays the
-- safety net for whatever a listener misses.

-- The channel of the installation whose tables are in this schema (several may share one database). A channel is an
-- identifier, at most 63 bytes: a schema name that does not fit is replaced by its md5.
CREATE FUNCTION audit_event_channel(schema_name name) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN octet_length('auditstream_events_' || schema_name) <= 63 THEN 'auditstream_events_' || schema_name
            ELSE 'auditstream_events_' || md5(schema_name) END
$$;

-- Once per statement (a group commit inserts up to its batch in one): the distinct organizations, or '*' when
-- their list would not fit a notification's payload (below 8000 bytes).
CREATE FUNCTION audit_event_wake_delivery() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    organizations text;
BEGIN
    SELECT string_agg(DISTINCT organization_id, ',') INTO organizations FROM inserted;
    IF organizations IS NOT NULL THEN
        PERFORM pg_notify(audit_event_channel(TG_TABLE_SCHEMA),
                          CASE WHEN octet_length(organizations) > 7000 THEN '*' ELSE organizations END);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_event_wake_delivery
    AFTER INSERT ON audit_event REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_wake_delivery();
