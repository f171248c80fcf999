-- Log streams: each is a consumer of the audit log with its own commit-safe cursor (xid, seq), a lease that says
-- which instance drives it now, and the state its destination's answers put it in.
CREATE TABLE log_stream (
    id              text PRIMARY KEY,
    organization_id text        NOT NULL REFERENCES organization (id),
    type            text        NOT NULL,
    name            text        NOT NULL,
    state           text        NOT NULL CHECK (state IN ('active', 'inactive', 'error', 'invalid')),
    state_reason    text,
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    -- non-secret settings as given; secrets separately, AES-GCM encrypted
    config          jsonb       NOT NULL,
    secrets         bytea,
    config_version  integer     NOT NULL DEFAULT 1,
    filters         jsonb       NOT NULL DEFAULT '{}',
    -- everything at or before (cursor_xid, cursor_seq) has been delivered (or dead-lettered)
    cursor_xid      xid8        NOT NULL,
    cursor_seq      bigint      NOT NULL DEFAULT 0,
    lease_owner     text,
    lease_until     timestamptz,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    failures        integer     NOT NULL DEFAULT 0,
    -- while isolating a rejected event: the largest batch to send
    batch_limit     integer,
    last_synced_at  timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX log_stream_organization ON log_stream (organization_id, id);
CREATE INDEX log_stream_due ON log_stream (next_attempt_at) WHERE state <> 'inactive';

CREATE TABLE log_stream_transition (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id       text        NOT NULL REFERENCES log_stream (id) ON DELETE CASCADE,
    organization_id text        NOT NULL,
    from_state      text        NOT NULL,
    to_state        text        NOT NULL,
    reason          text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX log_stream_transition_stream ON log_stream_transition (stream_id, id);

CREATE VIEW log_stream_transition_json AS
SELECT stream_id, organization_id, id,
       json_build_object(
           'object', 'log_stream_state_change',
           'id', id::text,
           'at', iso_ms(at),
           'from', from_state,
           'to', to_state,
           'reason', reason)::text AS json
FROM log_stream_transition;

-- Recent delivery attempts (trimmed per stream) and events a destination refused for good.
CREATE TABLE log_stream_delivery (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id       text        NOT NULL REFERENCES log_stream (id) ON DELETE CASCADE,
    organization_id text        NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    events          integer     NOT NULL,
    outcome         text        NOT NULL,
    http_status     integer,
    error           text,
    duration_ms     integer     NOT NULL,
    event_id        text
);
CREATE INDEX log_stream_delivery_stream ON log_stream_delivery (stream_id, id);

CREATE VIEW log_stream_delivery_json AS
SELECT stream_id, organization_id, id,
       json_strip_nulls(json_build_object(
           'object', 'log_stream_delivery',
           'id', id::text,
           'at', iso_ms(at),
           'events', events,
           'outcome', outcome,
           'http_status', http_status,
           'error', error,
           'duration_ms', duration_ms,
           'event_id', event_id))::text AS json
FROM log_stream_delivery;

CREATE OR REPLACE VIEW audit_log_configuration_json AS
SELECT o.id AS organization_id,
       json_build_object(
           'organization_id', o.id,
           'retention_period_in_days', o.retention_period_in_days,
           'state', 'active',
           'log_stream', (SELECT json_build_object(
                                     'id', s.id,
                                     'type', s.type,
                                     'state', s.state,
                                     'last_synced_at', iso_ms(s.last_synced_at),
                                     'created_at', iso_ms(s.created_at))
                          FROM log_stream s WHERE s.organization_id = o.id
                          ORDER BY s.created_at, s.id LIMIT 1))::text AS json
FROM organization o;

-- The log_stream object of the API. config holds secrets only masked; lag is how long, in seconds, the oldest
-- event not yet delivered has been waiting (0 when the stream is caught up).
CREATE VIEW log_stream_json AS
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
           'created_at', iso_ms(s.created_at),
           'updated_at', iso_ms(s.updated_at))::text AS json
FROM log_stream s;
