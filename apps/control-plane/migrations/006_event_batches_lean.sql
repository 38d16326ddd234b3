-- Every index on session_event_batches costs each flushed row ~20-35 µs of PGlite time (measured:
-- 125 µs per row with three indexes, 90 with two). Nothing looks batches up by run: replays go by
-- session and sequence (session_event_batches_last), so the run index goes.
DROP INDEX IF EXISTS session_event_batches_run;
