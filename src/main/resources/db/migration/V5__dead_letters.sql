-- Isolating a refused event: the event just after the cursor that was refused when sent alone. The next attempt sends
-- the events after it; only if those are accepted is it dead-lettered. If they are refused too, the refusal is the
-- destination's (or ours), not the event's: the stream changes state and nothing is dead-lettered.
ALTER TABLE log_stream ADD COLUMN suspect_event_id text;

-- Dead letters can be sent again (POST /log_streams/{id}/dead_letters/redrive): 'redriving' while that is under way,
-- 'redriven' once the destination took them; the stream shows how many wait.
CREATE INDEX log_stream_dead_letter ON log_stream_delivery (stream_id, event_id)
    WHERE outcome IN ('dead_lettered', 'redriving');
