-- Timestamps leave the database in one format: ISO-8601 UTC with exactly three fractional digits.
CREATE FUNCTION iso_ms(ts timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

CREATE TABLE organization (
    id                       text PRIMARY KEY,
    name                     text        NOT NULL,
    external_id              text UNIQUE,
    metadata                 jsonb       NOT NULL DEFAULT '{}',
    domains                  jsonb       NOT NULL DEFAULT '[]',
    retention_period_in_days integer     NOT NULL DEFAULT 365 CHECK (retention_period_in_days IN (30, 365)),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- The WorkOS organization object, rendered once here so every route returns the same shape.
CREATE VIEW organization_json AS
SELECT id,
       json_build_object(
           'object', 'organization',
           'id', id,
           'name', name,
           'domains', domains,
           'external_id', external_id,
           'metadata', metadata,
           'allow_profiles_outside_organization', false,
           'created_at', iso_ms(created_at),
           'updated_at', iso_ms(updated_at))::text AS json
FROM organization;

-- The audit log: append-only, one row per accepted event whatever the number of streams.
-- Consumers read it in (xid, seq) order below the snapshot's xmin so a late-committing insert is never skipped.
CREATE TABLE audit_event (
    organization_id text        NOT NULL,
    xid             xid8        NOT NULL DEFAULT pg_current_xact_id(),
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    id              text        NOT NULL,
    action          text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    accepted_at     timestamptz NOT NULL,
    actor_id        text        NOT NULL,
    actor_name      text,
    target_ids      text[]      NOT NULL,
    target_types    text[]      NOT NULL,
    -- the event exactly as delivered and exported: {"id","action","targets","actor","context","occurred_at",...}
    event           text        NOT NULL,
    PRIMARY KEY (organization_id, xid, seq)
);
-- Listing and export by time within one organization.
CREATE INDEX audit_event_occurred ON audit_event (organization_id, occurred_at);
-- Retention by arrival time: rows arrive in time order, so a BRIN index costs almost nothing on insert.
CREATE INDEX audit_event_accepted ON audit_event USING brin (accepted_at);

CREATE TABLE idempotency_key (
    key          text PRIMARY KEY,
    request_hash bytea       NOT NULL,
    event_id     text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_key_created ON idempotency_key USING brin (created_at);

-- Actions and their schema versions are installation-wide, like a WorkOS environment's.
CREATE TABLE audit_action (
    name       text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_action_schema (
    action     text        NOT NULL REFERENCES audit_action (name),
    version    integer     NOT NULL,
    -- the schema as posted: {"targets":[{"type","metadata"?}], "actor"?: {"metadata"}, "metadata"?}
    definition jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (action, version)
);

CREATE VIEW audit_action_schema_json AS
SELECT action,
       version,
       (jsonb_build_object('object', 'audit_log_schema', 'version', version, 'created_at', iso_ms(created_at))
           || definition)::text AS json
FROM audit_action_schema;

CREATE VIEW audit_action_json AS
SELECT a.name,
       json_build_object(
           'object', 'audit_log_action',
           'name', a.name,
           'schema', s.json::json,
           'created_at', iso_ms(a.created_at),
           'updated_at', iso_ms(a.updated_at))::text AS json
FROM audit_action a
JOIN LATERAL (SELECT json FROM audit_action_schema_json
              WHERE action = a.name ORDER BY version DESC LIMIT 1) s ON true;

-- GET /organizations/{id}/audit_log_configuration; log_stream is filled in once streams exist.
CREATE VIEW audit_log_configuration_json AS
SELECT id AS organization_id,
       json_build_object(
           'organization_id', id,
           'retention_period_in_days', retention_period_in_days,
           'state', 'active',
           'log_stream', NULL)::text AS json
FROM organization;
