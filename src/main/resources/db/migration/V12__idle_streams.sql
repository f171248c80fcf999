-- Idle streams cost the claim nothing: a stream whose cursor was found at its organization's head is marked caught
-- up, and the claim looks into the audit log only for streams that are not. A wake-up naming the organization (or a
-- listener's reconnect, or the periodic sweep) clears the mark. It is set only under the row's lock and by a
-- statement that started after the lock was taken, so a wake-up for an event the check did not see always lands
-- after it (see IdleStreams). Ingestion never writes this table.
ALTER TABLE log_stream ADD COLUMN caught_up boolean NOT NULL DEFAULT false;
