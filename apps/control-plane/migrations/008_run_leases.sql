-- Run leases (invariant 2 across replicas): the replica driving a running run holds a lease on
-- it, pushed later by its renewal loop; when the holder dies the lease expires and another replica
-- takes the run over as a new attempt. `attempt` is the fencing token: every late write of an older
-- attempt (a finalisation, an event) is refused.
ALTER TABLE runs ADD COLUMN lease_owner TEXT, ADD COLUMN lease_expires_at TIMESTAMPTZ;
CREATE INDEX runs_lease_expiry ON runs (lease_expires_at) WHERE status = 'running';

DROP FUNCTION semibot_submit_run(uuid, uuid, uuid, uuid, text, text, uuid, text, boolean);
DROP FUNCTION semibot_finalize_run(uuid, text, text, text, jsonb, text);

-- As in 007, and a run claimed at once is leased to p_owner for p_lease_ms.
CREATE FUNCTION semibot_submit_run(
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
             'sessionId', s.id, 'orgId', s.org_id, 'runtimeType', coalesce(s.runtime_type, a.runtime_type),
             'agent', json_build_object('id', a.id, 'name', a.name, 'systemPrompt', a.system_prompt, 'model', a.model),
             'skillIds', a.skill_ids, 'mcpServerIds', a.mcp_server_ids, 'content', p_content) END)
    INTO result
    FROM run
    LEFT JOIN sessions s ON s.id = run.session_id
    LEFT JOIN agents a ON a.id = s.agent_id AND a.deleted_at IS NULL;
  RETURN result;
END $$;

-- As in 007, fenced: with p_attempt, only that attempt of the run can end it (a replica that lost
-- the run's lease, or a plane of an older attempt, changes nothing).
CREATE FUNCTION semibot_finalize_run(
  p_run uuid, p_status text, p_error_code text, p_error_message text, p_usage jsonb, p_answer text, p_attempt integer
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  result json;
BEGIN
  WITH run AS (
    UPDATE runs SET status = p_status, error_code = p_error_code, error_message = p_error_message, usage = p_usage,
                    finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
     WHERE id = p_run AND status IN ('running', 'queued') AND (p_attempt IS NULL OR attempt = p_attempt) RETURNING *
  ), answer AS (
    INSERT INTO messages (org_id, session_id, run_id, role, content)
    SELECT org_id, session_id, id, 'assistant', p_answer FROM run WHERE p_answer <> ''
  )
  SELECT json_build_object(
           'run', row_to_json(run),
           'queuedBehind', EXISTS (SELECT 1 FROM runs q WHERE q.session_id = run.session_id AND q.status = 'queued'))
    INTO result
    FROM run;
  RETURN result;
END $$;

-- The session's next piece of work for p_owner: its running run when that run's lease has expired
-- (taken over as a new attempt: takeover = true), else its oldest queued run when none runs.
-- NULL when there is nothing to do or another replica holds the running run's lease.
CREATE FUNCTION semibot_claim_session(p_session uuid, p_owner text, p_lease_ms integer) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  taken runs%ROWTYPE;
BEGIN
  UPDATE runs SET attempt = attempt + 1, lease_owner = p_owner, lease_expires_at = now() + p_lease_ms * interval '1 millisecond'
   WHERE session_id = p_session AND status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())
  RETURNING * INTO taken;
  IF FOUND THEN RETURN json_build_object('run', row_to_json(taken), 'takeover', true); END IF;
  IF EXISTS (SELECT 1 FROM runs WHERE session_id = p_session AND status = 'running') THEN RETURN NULL; END IF;
  BEGIN
    UPDATE runs SET status = 'running', started_at = now(), attempt = attempt + 1,
                    lease_owner = p_owner, lease_expires_at = now() + p_lease_ms * interval '1 millisecond'
     WHERE id = (SELECT id FROM runs WHERE session_id = p_session AND status = 'queued' ORDER BY queue_seq LIMIT 1)
       AND status = 'queued'
    RETURNING * INTO taken;
  EXCEPTION WHEN unique_violation THEN
    RETURN NULL; -- a racing claim started the session's run first (runs_one_running)
  END;
  IF FOUND THEN RETURN json_build_object('run', row_to_json(taken), 'takeover', false); END IF;
  RETURN NULL;
END $$;
