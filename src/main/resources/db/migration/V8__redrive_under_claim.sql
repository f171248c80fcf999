-- Dead letters are sent again by the worker that holds the stream's claim, before its next batch: one sender per
-- stream at a time, every write fenced by the claim's token. A redrive request marks the dead letters 'redriving' and
-- raises this flag, which makes the stream claimable even with nothing new after its cursor.
ALTER TABLE log_stream ADD COLUMN redrive_requested boolean NOT NULL DEFAULT false;
