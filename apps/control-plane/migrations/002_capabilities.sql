-- Skills, MCP servers and long-term memory (the SemiGraph runtime's tools).

CREATE TABLE skills (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      UUID NOT NULL REFERENCES organizations(id),
  created_by  UUID NOT NULL REFERENCES users(id),
  name        VARCHAR(200) NOT NULL,
  description TEXT NOT NULL,
  requires    JSONB NOT NULL DEFAULT '{"bins": [], "env": []}',
  hash        VARCHAR(64) NOT NULL,          -- sha256 over the package's paths and bytes
  size_bytes  INTEGER NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX skills_org_name ON skills (org_id, name) WHERE deleted_at IS NULL;

CREATE TABLE skill_files (
  skill_id    UUID NOT NULL REFERENCES skills(id) ON DELETE CASCADE,
  path        TEXT NOT NULL,
  content     BYTEA NOT NULL,
  executable  BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (skill_id, path)
);

CREATE TABLE mcp_servers (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      UUID NOT NULL REFERENCES organizations(id),
  created_by  UUID NOT NULL REFERENCES users(id),
  name        VARCHAR(200) NOT NULL,
  transport   VARCHAR(20) NOT NULL CHECK (transport IN ('stdio', 'streamable_http')),
  command     TEXT,
  args        JSONB NOT NULL DEFAULT '[]',
  env         JSONB NOT NULL DEFAULT '{}',
  url         TEXT,
  headers     JSONB NOT NULL DEFAULT '{}',   -- credentials for remote servers; never sent to a plane
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at  TIMESTAMPTZ
);
CREATE INDEX mcp_servers_org ON mcp_servers (org_id) WHERE deleted_at IS NULL;

CREATE TABLE memories (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      UUID NOT NULL REFERENCES organizations(id),
  user_id     UUID NOT NULL REFERENCES users(id),
  agent_id    UUID,
  session_id  UUID,
  content     TEXT NOT NULL,
  tags        JSONB NOT NULL DEFAULT '[]',
  tsv         TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX memories_owner ON memories (org_id, user_id, created_at DESC);
CREATE INDEX memories_tsv ON memories USING GIN (tsv);

CREATE INDEX audit_logs_run ON audit_logs (run_id);
