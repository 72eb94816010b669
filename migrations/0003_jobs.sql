-- Jobs (SPEC §2): a request to run an action with params. Ids sort by creation time
-- (see SortableID), so keyset pagination is an index range scan on (workspace_id, id).
CREATE TABLE jobs (
    id text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    action text NOT NULL,
    params jsonb NOT NULL,
    payload_hash text NOT NULL CHECK (payload_hash ~ '^[0-9a-f]{64}$'),
    status text NOT NULL CHECK (status IN (
        'pending_approval', 'queued', 'approved', 'running', 'succeeded', 'failed',
        'rejected', 'expired', 'cancelled')),
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    submitted_by_type text NOT NULL,
    submitted_by text NOT NULL,
    -- The person accountable for the submission (separation of duties).
    acts_for text,
    callback_url text,
    required_approvals integer NOT NULL DEFAULT 1,
    -- For gated jobs: when the approval expires (deny by default).
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- The durable idempotency backstop: Redis may lose a key, this never does.
    CONSTRAINT jobs_workspace_idempotency_key UNIQUE (workspace_id, idempotency_key)
);
CREATE INDEX jobs_workspace_id ON jobs (workspace_id, id DESC);
CREATE INDEX jobs_workspace_status_id ON jobs (workspace_id, status, id DESC);
CREATE INDEX jobs_workspace_action_id ON jobs (workspace_id, action, id DESC);
