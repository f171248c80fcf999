-- Isolating a refused event: the event just after the cursor that was refused when sent alone. The next attempt sends
-- the events after it; only if those are accepted is it dead-lettered. If they are refused too, the refusal is the
-- destination's (or ours), not the event's: the stream changes state and nothing is dead-lettered.
ALTER TABLE log_stream ADD COLUMN suspect_event_id text;
