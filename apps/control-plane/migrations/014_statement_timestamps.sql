-- A row's time is its own statement's: embedded PGlite commits statements that queue up together in
-- one transaction (group-commit.ts), where now() is the same for all of them, and two snapshots of a
-- session stored in one group would then tie on created_at ("the latest" would be a coin toss).
-- statement_timestamp() is what now() was for each of them on its own.
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND column_default = 'now()'
  LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT statement_timestamp()', c.table_name, c.column_name);
  END LOOP;
END $$;
