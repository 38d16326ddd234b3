-- Semibot schema, version 1. Runs unchanged on embedded PGlite and on a PostgreSQL server.
-- Every tenant-owned row carries org_id; every query filters by it.

CREATE TABLE organizations (
  id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name                  TEXT NOT NULL,
  default_vm_mode       VARCHAR(20),
  default_runtime_type  VARCHAR(20),
  default_execution_mode VARCHAR(20),
  created_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id                UUID NOT NULL REFERENCES organizations(id),
  email                 TEXT NOT NULL,
  password_hash         TEXT NOT NULL,
  name                  TEXT,
  role                  VARCHAR(20) NOT NULL DEFAULT 'owner',
  vm_mode               VARCHAR(20),
  default_runtime_type  VARCHAR(20),
  execution_mode        VARCHAR(20),
  created_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

CREATE TABLE api_keys (
  id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id        UUID NOT NULL REFERENCES organizations(id),
  user_id       UUID NOT NULL REFERENCES users(id),
  name          TEXT NOT NULL,
  key_hash      TEXT NOT NULL UNIQUE,   -- sha256 of the key; the key itself is shown once
  key_prefix    VARCHAR(16) NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at  TIMESTAMPTZ,
  revoked_at    TIMESTAMPTZ
);

CREATE TABLE agents (
  id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id          UUID NOT NULL REFERENCES organizations(id),
  created_by      UUID NOT NULL REFERENCES users(id),
  name            TEXT NOT NULL,
  system_prompt   TEXT NOT NULL,
  model           TEXT,
  runtime_type    VARCHAR(20) NOT NULL DEFAULT 'semigraph',
  default_vm_mode VARCHAR(20),
  skill_ids       JSONB NOT NULL DEFAULT '[]',
  mcp_server_ids  JSONB NOT NULL DEFAULT '[]',
  openclaw_config JSONB,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at      TIMESTAMPTZ
);
CREATE INDEX agents_org ON agents (org_id, created_at) WHERE deleted_at IS NULL;

CREATE TABLE sessions (
  id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id              UUID NOT NULL REFERENCES organizations(id),
  user_id             UUID NOT NULL REFERENCES users(id),
  agent_id            UUID NOT NULL REFERENCES agents(id),
  title               TEXT,
  runtime_type        VARCHAR(20),
  -- event ids are handed out in blocks below this mark (hi/lo), so ids never repeat after a crash
  event_seq_reserved  BIGINT NOT NULL DEFAULT 0,
  -- events with id <= this were pruned; a client asking to resume below it gets `resync`
  events_pruned_through BIGINT NOT NULL DEFAULT 0,
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at          TIMESTAMPTZ
);
CREATE INDEX sessions_org_user ON sessions (org_id, user_id, created_at) WHERE deleted_at IS NULL;

CREATE TABLE runs (
  id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  queue_seq       BIGINT GENERATED ALWAYS AS IDENTITY,
  org_id          UUID NOT NULL REFERENCES organizations(id),
  user_id         UUID NOT NULL REFERENCES users(id),
  session_id      UUID NOT NULL REFERENCES sessions(id),
  message_id      UUID,
  idempotency_key TEXT,
  status          VARCHAR(20) NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  attempt         INTEGER NOT NULL DEFAULT 0,
  vm_instance_id  UUID,
  error_code      VARCHAR(40),
  error_message   TEXT,
  usage           JSONB,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at      TIMESTAMPTZ,
  finished_at     TIMESTAMPTZ
);
-- invariant 4: one run per (session, idempotency key), whatever the concurrency
CREATE UNIQUE INDEX runs_idempotency ON runs (session_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- invariant 2: at most one running run per session, enforced by the database across replicas
CREATE UNIQUE INDEX runs_one_running ON runs (session_id) WHERE status = 'running';
CREATE INDEX runs_queued ON runs (session_id, queue_seq) WHERE status = 'queued';
CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'running');

CREATE TABLE messages (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  position    BIGINT GENERATED ALWAYS AS IDENTITY,
  org_id      UUID NOT NULL REFERENCES organizations(id),
  session_id  UUID NOT NULL REFERENCES sessions(id),
  run_id      UUID REFERENCES runs(id),
  role        VARCHAR(20) NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  content     TEXT NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX messages_session ON messages (session_id, position);

-- The retained, resumable event log: what a client replays with Last-Event-ID.
CREATE TABLE session_events (
  session_id  UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq         BIGINT NOT NULL,
  run_id      UUID,
  type        VARCHAR(20) NOT NULL,
  payload     JSONB NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, seq)
);
CREATE INDEX session_events_run ON session_events (run_id, seq);

-- One execution plane per user (seed 000 §3, with the lifecycle columns of seed 001).
CREATE TABLE user_vm_instances (
  id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id               UUID NOT NULL REFERENCES users(id),
  org_id                UUID NOT NULL,
  mode                  VARCHAR(20) NOT NULL CHECK (mode IN ('process', 'docker', 'firecracker', 'local')),
  status                VARCHAR(20) NOT NULL DEFAULT 'starting'
                        CHECK (status IN ('starting', 'provisioning', 'ready', 'disconnected', 'frozen', 'failed', 'terminated')),
  vm_id                 VARCHAR(255),   -- pid, container or microVM id
  disk_id               VARCHAR(255),   -- persistent disk, remounted after a crash
  ip_address            VARCHAR(45),
  config                JSONB NOT NULL DEFAULT '{}',
  connect_ticket_hash   TEXT,           -- one-time ticket of the current bootstrap; NULL once used
  last_heartbeat_at     TIMESTAMPTZ,
  bootstrap_attempts    INTEGER NOT NULL DEFAULT 0,
  bootstrap_last_error  TEXT,
  last_bootstrap_at     TIMESTAMPTZ,
  connected_at          TIMESTAMPTZ,
  created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
  terminated_at         TIMESTAMPTZ
);
CREATE INDEX user_vm_instances_user ON user_vm_instances (user_id);
CREATE UNIQUE INDEX user_vm_one_active ON user_vm_instances (user_id) WHERE status NOT IN ('terminated', 'failed');

CREATE TABLE session_snapshots (
  id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id          UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id             UUID NOT NULL REFERENCES users(id),
  org_id              UUID NOT NULL,
  checkpoint          JSONB,
  short_term_memory   JSONB,
  conversation_state  JSONB,
  file_manifest       JSONB,
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX session_snapshots_latest ON session_snapshots (session_id, created_at DESC);

CREATE TABLE usage_records (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id  UUID NOT NULL,
  run_id      UUID,
  agent_id    UUID,
  user_id     UUID NOT NULL,
  org_id      UUID NOT NULL,
  model       VARCHAR(100),
  tokens_in   INTEGER NOT NULL DEFAULT 0,
  tokens_out  INTEGER NOT NULL DEFAULT 0,
  latency_ms  INTEGER,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_org ON usage_records (org_id, created_at);
CREATE INDEX usage_records_run ON usage_records (run_id);

CREATE TABLE audit_logs (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      UUID NOT NULL,
  user_id     UUID,
  session_id  UUID,
  run_id      UUID,
  action      VARCHAR(100) NOT NULL,
  target      TEXT,
  details     JSONB NOT NULL DEFAULT '{}',
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_org ON audit_logs (org_id, created_at);
