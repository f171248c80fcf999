-- Events retention deleted before a stream delivered them, counted per stream: nothing accepted is dropped silently.
ALTER TABLE log_stream ADD COLUMN expired_undelivered bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE VIEW log_stream_json AS
SELECT s.id,
       s.organization_id,
       json_build_object(
           'object', 'log_stream',
           'id', s.id,
           'organization_id', s.organization_id,
           'type', s.type,
           'name', s.name,
           'state', s.state,
           'state_reason', s.state_reason,
           'config', s.config,
           'filters', s.filters,
           'last_synced_at', iso_ms(s.last_synced_at),
           'last_error', s.last_error,
           'lag', coalesce((SELECT floor(extract(epoch FROM now() - e.accepted_at))::bigint
                            FROM audit_event e
                            WHERE e.organization_id = s.organization_id
                              AND (e.xid, e.seq) > (s.cursor_xid, s.cursor_seq)
                            ORDER BY e.xid, e.seq LIMIT 1), 0),
           'dead_letters', (SELECT count(*) FROM log_stream_delivery d
                            WHERE d.stream_id = s.id AND d.outcome IN ('dead_lettered', 'redriving')),
           'expired_undelivered', s.expired_undelivered,
           'created_at', iso_ms(s.created_at),
           'updated_at', iso_ms(s.updated_at))::text AS json
FROM log_stream s;

-- The history purges find old rows by time without reading the whole table.
CREATE INDEX log_stream_delivery_at ON log_stream_delivery USING brin (at);
CREATE INDEX log_stream_transition_at ON log_stream_transition USING brin (at);
