-- pgbench script for bench/ingest: the baseline single-row INSERT, one event per transaction, in the same
-- columns and with an event text of the same shape and size as the service stores, into bench_audit_event (a copy
-- of audit_event's columns and indexes, without its delivery wake-up trigger; bench/ingest creates it).
-- :run (a 5-digit tag per benchmark run), :client_id and :n (per-client counter, started with -D n=0) make each
-- event id unique, also across runs on one database; padded to the 26 characters of the service's ULID ids.
\set n :n + 1
INSERT INTO bench_audit_event (organization_id, id, action, occurred_at, accepted_at, actor_id, actor_name,
                         target_ids, target_types, event)
VALUES ('org_pgbench', lpad(:run::text || 'x' || :client_id::text || 'x' || :n::text, 26, '0'), 'user.signed_in', '2024-01-15T10:30:00.000Z', now(),
        'user_456', NULL, '{user_123}', '{user}',
        '{"id":"' || lpad(:run::text || 'x' || :client_id::text || 'x' || :n::text, 26, '0') || '","action":"user.signed_in",'
        '"targets":[{"id":"user_123","type":"user"}],"actor":{"id":"user_456","type":"user"},'
        '"context":{"location":"192.168.1.1","user_agent":"Chrome/91.0"},"occurred_at":"2024-01-15T10:30:00.000Z"}');
