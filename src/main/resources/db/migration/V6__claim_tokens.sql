-- Each claim of a stream gets its own token. Every write a drain makes (cursor, state, history, lease) is
-- conditional on it; a change to the stream (config, filters, pause, replay) clears it and the next claim replaces
-- it, so a drain that started before either can write nothing after it.
ALTER TABLE log_stream ADD COLUMN lease_token uuid;
CREATE INDEX log_stream_lease_token ON log_stream (lease_token) WHERE lease_token IS NOT NULL;
