-- Audit log exports: a CSV built in the background, kept in the database in chunks so any instance can serve it
-- and a restart picks up an export that was still pending.
CREATE TABLE audit_log_export (
    id              text PRIMARY KEY,
    organization_id text        NOT NULL REFERENCES organization (id),
    filters         jsonb       NOT NULL,
    state           text        NOT NULL CHECK (state IN ('pending', 'ready', 'error')),
    error           text,
    events          bigint,
    lease_owner     text,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_export_pending ON audit_log_export (created_at) WHERE state = 'pending';

CREATE TABLE audit_log_export_chunk (
    export_id text    NOT NULL REFERENCES audit_log_export (id) ON DELETE CASCADE,
    n         integer NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (export_id, n)
);
