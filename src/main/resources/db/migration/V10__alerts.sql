-- Stream health alerts. Each organization names the addresses its IT contacts get alert emails at.
ALTER TABLE organization ADD COLUMN alert_emails text[] NOT NULL DEFAULT '{}';

-- An alert to send: written in the transaction of the change that causes it (a state change, a dead letter, a failed
-- export), so none is lost and none is sent for a change that rolled back. A sender claims due ones with a lease and
-- a token of its own; marking one sent or rescheduling it requires that token. Email alerts are kept for the rate
-- limit (one per stream and kind per window, decided against what was sent) and purged after auditstream.alerts.keep-for.
CREATE TABLE alert (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id text        NOT NULL REFERENCES organization (id),
    stream_id       text        REFERENCES log_stream (id) ON DELETE CASCADE,
    -- 'email': to the organization's alert contacts; 'webhook': to the operator's webhook
    channel         text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- email: the stream's trouble ('error', 'invalid', 'dead_lettered') or 'recovered'; webhook: the event type
    kind            text        NOT NULL,
    -- typed values the message is built from: organization and stream names, states, reason, times
    data            jsonb       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'dropped')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_owner     text,
    lease_until     timestamptz,
    lease_token     uuid,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX alert_due ON alert (next_attempt_at) WHERE state = 'pending';
CREATE INDEX alert_stream ON alert (stream_id, channel, kind, id) WHERE stream_id IS NOT NULL;
CREATE INDEX alert_done ON alert (created_at) WHERE state <> 'pending';
