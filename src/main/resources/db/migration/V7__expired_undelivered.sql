-- Events retention deleted before a stream delivered them, counted per stream: nothing accepted is dropped silently.
ALTER TABLE log_stream ADD COLUMN expired_undelivered bigint NOT NULL DEFAULT 0;

-- The history purges find old rows by time without reading the whole table.
CREATE INDEX log_stream_delivery_at ON log_stream_delivery USING brin (at);
CREATE INDEX log_stream_transition_at ON log_stream_transition USING brin (at);
