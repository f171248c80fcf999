-- Isolating a refused event: the event just after the cursor that was refused when sent alone. The next attempt sends
-- the events after it; only if those are accepted is it dead-lettered. If they are refused too, the refusal is the
-- destination's (or ours), not the event's: the stream changes state and nothing is dead-lettered.
ALTER TABLE log_stream ADD COLUMN suspect_event_id text;

-- Dead letters can be sent again (POST /log_streams/{id}/dead_letters/redrive): 'redriving' while that is under way,
-- 'redriven' once the destination took them; the stream shows how many wait.
CREATE INDEX log_stream_dead_letter ON log_stream_delivery (stream_id, event_id)
    WHERE outcome IN ('dead_lettered', 'redriving');

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
           'created_at', iso_ms(s.created_at),
           'updated_at', iso_ms(s.updated_at))::text AS json
FROM log_stream s;
