-- A batch of turns looks its sessions and their runs up by key, whatever else is stored.
-- A database without statistics (embedded PGlite has no autovacuum and never gets any; a fresh
-- server's tables have none yet) costs every function scan at 100 rows, and for 015's batch submit
-- that made a hash join over a scan of every live session the cheaper plan: a 26-turn batch read
-- 20,624 rows of `sessions` with 20,600 stored, and its cost per turn grew with them (npm run bench,
-- --only=submit: 238–253 µs a turn with 1,000 sessions stored, 374–389 with 20,000; with this
-- migration 104–119 at either). Each change below leaves the planner no such plan:

-- 1. One index of a session's active runs, probed once. runs_active indexed `status`, and the
--    probes for a queued and for a running run (`session_id = $1 AND status = …`) could walk all
--    active runs' entries in it, or in runs_lease_expiry; without statistics they did, for every
--    turn. Start-up recovery, its other reader, scans it whole, as before.
DROP INDEX runs_active;
CREATE INDEX runs_active ON runs (session_id) WHERE status IN ('queued', 'running');

-- 2. The session is a scalar subquery of each turn, and the delivery a LATERAL … LIMIT 1: neither
--    can be turned into a join, so each is a primary-key lookup per turn (a join, or an EXISTS,
--    the planner may run as a hash over the whole table).
-- 3. `idle` is MATERIALIZED: inlined, its probes ran once for each of the five places the INSERT
--    reads `now`.
-- 4. A deleted agent is told apart after its lookup, not in it: `a.deleted_at IS NULL` in the join
--    let the planner walk agents_org (every live agent of every org, filtered by id) instead of
--    agents_pkey, once a turn. The one-turn function (013) had the same join; it is redefined below.
CREATE OR REPLACE FUNCTION semibot_submit_runs(p jsonb) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  result json;
BEGIN
  WITH input AS (
    SELECT * FROM jsonb_to_recordset(p) AS x(run_id uuid, org uuid, usr uuid, session uuid, key text, request text, message uuid,
                                            content text, claim boolean, owner text, lease_ms integer)
  ), idle AS MATERIALIZED (
    SELECT i.*,
           i.claim AND (SELECT 1 FROM runs r WHERE r.session_id = i.session AND r.status IN ('queued', 'running') LIMIT 1) IS NULL AS now
      FROM input i
     WHERE (SELECT s.org_id = i.org AND s.deleted_at IS NULL FROM sessions s WHERE s.id = i.session)
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
           'delivery', CASE WHEN run.status = 'running' AND d.agent_id IS NOT NULL THEN json_build_object(
             'sessionId', d.session_id, 'orgId', d.org_id, 'runtimeType', d.runtime_type,
             'executionMode', d.execution_mode, 'executionFrom', d.execution_from,
             'agent', json_build_object('id', d.agent_id, 'name', d.name, 'systemPrompt', d.system_prompt, 'model', d.model),
             'skillIds', d.skill_ids, 'mcpServerIds', d.mcp_server_ids, 'content', i.content) END)), '[]'::json)
    INTO result
    FROM run
    JOIN input i ON i.run_id = run.id
    LEFT JOIN LATERAL (
      SELECT s.id AS session_id, s.org_id, coalesce(s.runtime_type, a.runtime_type, u.default_runtime_type, o.default_runtime_type) AS runtime_type,
             coalesce(u.execution_mode, o.default_execution_mode) AS execution_mode,
             CASE WHEN u.execution_mode IS NOT NULL THEN 'user' WHEN o.default_execution_mode IS NOT NULL THEN 'org' END AS execution_from,
             CASE WHEN a.deleted_at IS NULL THEN a.id END AS agent_id, a.name, a.system_prompt, a.model, a.skill_ids, a.mcp_server_ids
        FROM sessions s
        LEFT JOIN agents a ON a.id = s.agent_id
        LEFT JOIN users u ON u.id = s.user_id
        LEFT JOIN organizations o ON o.id = s.org_id
       WHERE s.id = run.session_id
       LIMIT 1
    ) d ON true;
  RETURN result;
END $$;

-- As in 013, but with the session looked up by key (2 above: `org_id = p_org` in the lookup let the
-- planner walk the org's sessions in sessions_org_user), one probe of runs_active (1) and the
-- agent's lookup by key (4).
CREATE OR REPLACE FUNCTION semibot_submit_run(
  p_run uuid, p_org uuid, p_user uuid, p_session uuid, p_key text, p_request text, p_message uuid, p_content text,
  p_claim boolean, p_owner text, p_lease_ms integer
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  result json;
BEGIN
  WITH live AS (
    SELECT 1 WHERE (SELECT s.org_id = p_org AND s.deleted_at IS NULL FROM sessions s WHERE s.id = p_session)
  ), idle AS (
    SELECT p_claim AND NOT EXISTS (SELECT 1 FROM runs WHERE session_id = p_session AND status IN ('queued', 'running')) AS now
      FROM live
  ), run AS (
    INSERT INTO runs (id, org_id, user_id, session_id, idempotency_key, request_id, message_id, status, started_at, attempt,
                      lease_owner, lease_expires_at)
    SELECT p_run, p_org, p_user, p_session, p_key, p_request, p_message,
           CASE WHEN idle.now THEN 'running' ELSE 'queued' END, CASE WHEN idle.now THEN now() END, CASE WHEN idle.now THEN 1 ELSE 0 END,
           CASE WHEN idle.now THEN p_owner END, CASE WHEN idle.now THEN now() + p_lease_ms * interval '1 millisecond' END
      FROM idle
    RETURNING *
  ), message AS (
    INSERT INTO messages (id, org_id, session_id, run_id, role, content)
    SELECT p_message, org_id, session_id, id, 'user', p_content FROM run
  )
  SELECT json_build_object(
           'run', row_to_json(run),
           'delivery', CASE WHEN run.status = 'running' AND a.id IS NOT NULL AND a.deleted_at IS NULL THEN json_build_object(
             'sessionId', s.id, 'orgId', s.org_id, 'runtimeType', coalesce(s.runtime_type, a.runtime_type, u.default_runtime_type, o.default_runtime_type),
             'executionMode', coalesce(u.execution_mode, o.default_execution_mode),
             'executionFrom', CASE WHEN u.execution_mode IS NOT NULL THEN 'user' WHEN o.default_execution_mode IS NOT NULL THEN 'org' END,
             'agent', json_build_object('id', a.id, 'name', a.name, 'systemPrompt', a.system_prompt, 'model', a.model),
             'skillIds', a.skill_ids, 'mcpServerIds', a.mcp_server_ids, 'content', p_content) END)
    INTO result
    FROM run
    LEFT JOIN sessions s ON s.id = run.session_id
    LEFT JOIN agents a ON a.id = s.agent_id
    LEFT JOIN users u ON u.id = s.user_id
    LEFT JOIN organizations o ON o.id = s.org_id;
  RETURN result;
END $$;
