-- Usage metering, in the product's pricing units. Nothing here is written on the ingest path: a meter job reads the
-- log behind its own per-organization cursor, like a stream, and counts what it read.

-- The meter's cursor per organization (everything at or before it is counted) and the events counted and not yet
-- deleted by retention: the purge deletes only counted events and subtracts them here in its own transaction.
CREATE TABLE usage_meter (
    organization_id text   PRIMARY KEY,
    cursor_xid      xid8   NOT NULL,
    cursor_seq      bigint NOT NULL,
    retained        bigint NOT NULL
);

-- Events accepted per organization and month of acceptance (UTC; month is the month's first day).
CREATE TABLE organization_usage (
    organization_id text   NOT NULL,
    month           date   NOT NULL,
    ingested        bigint NOT NULL,
    PRIMARY KEY (organization_id, month)
);

-- Events each stream delivered per month of delivery, added by the fenced update that advances its cursor.
-- Kept when the stream is deleted.
CREATE TABLE log_stream_usage (
    stream_id       text   NOT NULL,
    month           date   NOT NULL,
    organization_id text   NOT NULL,
    delivered       bigint NOT NULL,
    PRIMARY KEY (stream_id, month)
);
CREATE INDEX log_stream_usage_organization ON log_stream_usage (organization_id, month);

-- When each stream existed: streams are deleted outright, so their lifetime is kept here for stream-days.
CREATE TABLE log_stream_lifetime (
    stream_id       text        PRIMARY KEY,
    organization_id text        NOT NULL,
    type            text        NOT NULL,
    created_at      timestamptz NOT NULL,
    deleted_at      timestamptz
);
CREATE INDEX log_stream_lifetime_organization ON log_stream_lifetime (organization_id, created_at);

INSERT INTO log_stream_lifetime (stream_id, organization_id, type, created_at)
SELECT id, organization_id, type, created_at FROM log_stream;

CREATE FUNCTION log_stream_lifetime_record() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO log_stream_lifetime (stream_id, organization_id, type, created_at)
        VALUES (NEW.id, NEW.organization_id, NEW.type, NEW.created_at);
    ELSE
        UPDATE log_stream_lifetime SET deleted_at = now() WHERE stream_id = OLD.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER log_stream_lifetime_record
    AFTER INSERT OR DELETE ON log_stream
    FOR EACH ROW EXECUTE FUNCTION log_stream_lifetime_record();

-- The month (its first day, UTC) a moment falls in.
CREATE FUNCTION usage_month(at timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN date_trunc('month', at AT TIME ZONE 'UTC')::date;

-- The usage object of every organization for the month starting on period (a month's first day). A stream counts in
-- a month when it existed on any of its days so far; its stream-days are those UTC days, today included.
CREATE FUNCTION usage_json(period date) RETURNS TABLE (organization_id text, "json" text)
    LANGUAGE sql STABLE AS $$
SELECT o.id,
       json_build_object(
           'object', 'usage',
           'organization_id', o.id,
           'month', to_char(period, 'YYYY-MM'),
           'period_start', iso_ms(period::timestamp AT TIME ZONE 'UTC'),
           'period_end', iso_ms((period + interval '1 month') AT TIME ZONE 'UTC'),
           'events_ingested', coalesce(m.ingested, 0),
           'events_retained', coalesce(r.retained, 0),
           'events_delivered', coalesce(s.delivered, 0),
           'active_streams', coalesce(s.streams, 0),
           'stream_days', coalesce(s.days, 0),
           'log_streams', coalesce(s.list, '[]'))::text
FROM organization o
LEFT JOIN organization_usage m ON m.organization_id = o.id AND m.month = period
LEFT JOIN usage_meter r ON r.organization_id = o.id
LEFT JOIN LATERAL (
    SELECT count(*) AS streams, sum(l.days) AS days, sum(l.delivered) AS delivered,
           json_agg(json_build_object(
               'id', l.stream_id,
               'type', l.type,
               'events_delivered', l.delivered,
               'stream_days', l.days,
               'created_at', iso_ms(l.created_at),
               'deleted_at', iso_ms(l.deleted_at)) ORDER BY l.created_at, l.stream_id) AS list
    FROM (SELECT t.stream_id, t.type, t.created_at, t.deleted_at, coalesce(d.delivered, 0) AS delivered,
                 greatest(0, least(coalesce((t.deleted_at AT TIME ZONE 'UTC')::date, 'infinity'::date),
                                   (period + interval '1 month')::date - 1,
                                   (now() AT TIME ZONE 'UTC')::date)
                             - greatest((t.created_at AT TIME ZONE 'UTC')::date, period) + 1) AS days
          FROM log_stream_lifetime t
          LEFT JOIN log_stream_usage d ON d.stream_id = t.stream_id AND d.month = period
          WHERE t.organization_id = o.id AND t.created_at < (period + interval '1 month') AT TIME ZONE 'UTC'
            AND (t.deleted_at IS NULL OR t.deleted_at >= period::timestamp AT TIME ZONE 'UTC')) l
    WHERE l.days > 0) s ON true
$$;
