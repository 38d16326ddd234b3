-- Execution modes (seeds 002/003): a run goes through a plane (`runtime`) or the control plane
-- streams it from the LLM itself (`direct`, no tools). The chain: the user's setting > the org's
-- (an org set to `runtime` while the deployment defaults to `direct` is the seeds' whitelist) >
-- SEMIBOT_EXECUTION_MODE. A run records the mode it ran in and, when the fallback monitor sent it
-- direct instead of through a plane, why.
-- (users.execution_mode and organizations.default_execution_mode exist since 001, unused until now)
UPDATE users SET execution_mode = NULL WHERE execution_mode NOT IN ('runtime', 'direct');
UPDATE organizations SET default_execution_mode = NULL WHERE default_execution_mode NOT IN ('runtime', 'direct');
ALTER TABLE users ADD CONSTRAINT users_execution_mode CHECK (execution_mode IN ('runtime', 'direct'));
ALTER TABLE organizations ADD CONSTRAINT organizations_execution_mode CHECK (default_execution_mode IN ('runtime', 'direct'));
ALTER TABLE runs ADD COLUMN execution_mode VARCHAR(10) CHECK (execution_mode IN ('runtime', 'direct'));
ALTER TABLE runs ADD COLUMN fallback_reason TEXT;

-- As in 011; a delivery also carries the execution mode chain down to the org (NULL: the default).
CREATE OR REPLACE FUNCTION semibot_submit_run(
  p_run uuid, p_org uuid, p_user uuid, p_session uuid, p_key text, p_request text, p_message uuid, p_content text,
  p_claim boolean, p_owner text, p_lease_ms integer
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  result json;
BEGIN
  WITH live AS (
    SELECT 1 FROM sessions WHERE id = p_session AND org_id = p_org AND deleted_at IS NULL
  ), idle AS (
    SELECT p_claim
           AND NOT EXISTS (SELECT 1 FROM runs WHERE session_id = p_session AND status = 'queued')
           AND NOT EXISTS (SELECT 1 FROM runs WHERE session_id = p_session AND status = 'running') AS now
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
           'delivery', CASE WHEN run.status = 'running' AND a.id IS NOT NULL THEN json_build_object(
             'sessionId', s.id, 'orgId', s.org_id, 'runtimeType', coalesce(s.runtime_type, a.runtime_type, u.default_runtime_type, o.default_runtime_type),
             'executionMode', coalesce(u.execution_mode, o.default_execution_mode),
             'executionFrom', CASE WHEN u.execution_mode IS NOT NULL THEN 'user' WHEN o.default_execution_mode IS NOT NULL THEN 'org' END,
             'agent', json_build_object('id', a.id, 'name', a.name, 'systemPrompt', a.system_prompt, 'model', a.model),
             'skillIds', a.skill_ids, 'mcpServerIds', a.mcp_server_ids, 'content', p_content) END)
    INTO result
    FROM run
    LEFT JOIN sessions s ON s.id = run.session_id
    LEFT JOIN agents a ON a.id = s.agent_id AND a.deleted_at IS NULL
    LEFT JOIN users u ON u.id = s.user_id
    LEFT JOIN organizations o ON o.id = s.org_id;
  RETURN result;
END $$;
