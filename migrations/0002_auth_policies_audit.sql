-- The allowlist: one row per (workspace, action). No row, or enabled = false, means
-- the action may not run in that workspace (SPEC §2).
CREATE TABLE policies (
    workspace_id text NOT NULL REFERENCES workspaces (id),
    action text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    approval text NOT NULL DEFAULT 'required' CHECK (approval IN ('required', 'auto')),
    approval_timeout_seconds integer NOT NULL CHECK (approval_timeout_seconds > 0),
    required_approvals integer NOT NULL DEFAULT 1 CHECK (required_approvals BETWEEN 1 AND 10),
    constraints jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, action)
);

-- API keys: `gk_<id>_<secret><checksum>`. Only SHA-256 of the whole key is stored.
-- During a rotation overlap the previous hash stays valid until its expiry.
CREATE TABLE api_keys (
    id text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scopes text[] NOT NULL,
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    previous_secret_hash bytea CHECK (length(previous_secret_hash) = 32),
    previous_secret_expires_at timestamptz,
    created_by text NOT NULL,
    -- The person accountable for what the key does (separation of duties).
    acts_for text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    rotated_at timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_workspace_created ON api_keys (workspace_id, created_at, id);

-- Every state change and security event. Rows are only ever inserted; prev_hash and
-- hash are reserved for the per-workspace hash chain.
CREATE TABLE audit_events (
    seq bigserial PRIMARY KEY,
    workspace_id text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_type text NOT NULL,
    actor_id text,
    actor_ip text,
    action text NOT NULL,
    target_type text,
    target_id text,
    outcome text NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    request_id text,
    details jsonb NOT NULL DEFAULT '{}',
    prev_hash bytea,
    hash bytea
);
CREATE INDEX audit_events_workspace_seq ON audit_events (workspace_id, seq);

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
