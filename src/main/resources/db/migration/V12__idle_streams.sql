-- Idle streams cost the claim nothing: a stream found with nothing after its cursor is marked caught up, and the
-- claim looks into the audit log only for streams that are not. A wake-up naming the organization (or a listener's
-- reconnect, a replay, the periodic sweep) clears the mark. Marking and the wake-ups' clearing exclude each other by
-- an advisory lock, each looking at the rows only after it took the lock, so a wake-up for an event the marking did
-- not see always clears the mark after it (see IdleStreams). Ingestion never writes this table.
ALTER TABLE log_stream ADD COLUMN caught_up boolean NOT NULL DEFAULT false;
