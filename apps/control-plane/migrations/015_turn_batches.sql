-- The two statements of every turn, for many turns at once. 200 turns that start (or end) together
-- were 200 statements, one after another on embedded PGlite's single thread: ~0.6 ms each to
-- submit and ~0.4 ms to finalize (2-core VM), 200 ms of a core in a burst that the streams already
-- running had to share the machine with. The same work as one statement per batch costs ~0.3 and
-- ~0.17 ms a turn at 16 turns, ~0.2 and ~0.1 at 50 (store/runs.ts batches what queues up). A lone
-- turn still goes through the one-turn functions of 013 and 008, which are cheaper for one.

-- As semibot_submit_run (013), for turns of distinct sessions: `p` is a JSON array of
-- {run_id, org, usr, session, key, request, message, content, claim, owner, lease_ms}. Returns an array
-- of {run, delivery} for the turns stored; a turn whose session is not live (or not the org's) is
-- left out. Two turns of one session in a batch would both find it idle and both claim it:
-- runs_one_running then fails the statement, and the caller runs the turns one by one.
CREATE FUNCTION semibot_submit_runs(p jsonb) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  result json;
BEGIN
  WITH input AS (
    SELECT * FROM jsonb_to_recordset(p) AS x(run_id uuid, org uuid, usr uuid, session uuid, key text, request text, message uuid,
                                            content text, claim boolean, owner text, lease_ms integer)
  ), idle AS (
    SELECT i.*,
           i.claim
           AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.session_id = i.session AND r.status = 'queued')
           AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.session_id = i.session AND r.status = 'running') AS now
      FROM input i JOIN sessions s ON s.id = i.session AND s.org_id = i.org AND s.deleted_at IS NULL
  ), run AS (
    INSERT INTO runs (id, org_id, user_id, session_id, idempotency_key, request_id, message_id, status, started_at, attempt,
                      lease_owner, lease_expires_at)
    SELECT run_id, org, usr, session, key, request, message,
           CASE WHEN now THEN 'running' ELSE 'queued' END, CASE WHEN now THEN now() END, CASE WHEN now THEN 1 ELSE 0 END,
           CASE WHEN now THEN owner END, CASE WHEN now THEN now() + lease_ms * interval '1 millisecond' END
      FROM idle
    RETURNING *
  ), message AS (
    INSERT INTO messages (id, org_id, session_id, run_id, role, content)
    SELECT run.message_id, run.org_id, run.session_id, run.id, 'user', i.content FROM run JOIN input i ON i.run_id = run.id
  )
  SELECT coalesce(json_agg(json_build_object(
           'run', row_to_json(run),
           'delivery', CASE WHEN run.status = 'running' AND a.id IS NOT NULL THEN json_build_object(
             'sessionId', s.id, 'orgId', s.org_id, 'runtimeType', coalesce(s.runtime_type, a.runtime_type, u.default_runtime_type, o.default_runtime_type),
             'executionMode', coalesce(u.execution_mode, o.default_execution_mode),
             'executionFrom', CASE WHEN u.execution_mode IS NOT NULL THEN 'user' WHEN o.default_execution_mode IS NOT NULL THEN 'org' END,
             'agent', json_build_object('id', a.id, 'name', a.name, 'systemPrompt', a.system_prompt, 'model', a.model),
             'skillIds', a.skill_ids, 'mcpServerIds', a.mcp_server_ids, 'content', i.content) END)), '[]'::json)
    INTO result
    FROM run
    JOIN input i ON i.run_id = run.id
    LEFT JOIN sessions s ON s.id = run.session_id
    LEFT JOIN agents a ON a.id = s.agent_id AND a.deleted_at IS NULL
    LEFT JOIN users u ON u.id = s.user_id
    LEFT JOIN organizations o ON o.id = s.org_id;
  RETURN result;
END $$;

-- As semibot_finalize_run (008), for distinct runs: `p` is a JSON array of
-- {run_id, status, code, message, usage, answer, attempt}. Returns an array of {run, queuedBehind}
-- for the runs it ended; a run that had ended already (or is of another attempt) is left out.
CREATE FUNCTION semibot_finalize_runs(p jsonb) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  result json;
BEGIN
  WITH input AS (
    SELECT * FROM jsonb_to_recordset(p) AS x(run_id uuid, status text, code text, message text, usage jsonb, answer text, attempt integer)
  ), run AS (
    UPDATE runs SET status = i.status, error_code = i.code, error_message = i.message, usage = i.usage,
                    finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
      FROM input i
     WHERE runs.id = i.run_id AND runs.status IN ('running', 'queued') AND (i.attempt IS NULL OR runs.attempt = i.attempt)
    RETURNING runs.*
  ), answer AS (
    INSERT INTO messages (org_id, session_id, run_id, role, content)
    SELECT run.org_id, run.session_id, run.id, 'assistant', i.answer FROM run JOIN input i ON i.run_id = run.id WHERE i.answer <> ''
  )
  SELECT coalesce(json_agg(json_build_object(
           'run', row_to_json(run),
           'queuedBehind', EXISTS (SELECT 1 FROM runs q WHERE q.session_id = run.session_id AND q.status = 'queued'))), '[]'::json)
    INTO result
    FROM run;
  RETURN result;
END $$;
