-- The human gate (SPEC §2 Approval): one approval per gated job, with its votes.
CREATE TABLE approvals (
    id text PRIMARY KEY,
    workspace_id text NOT NULL,
    job_id text NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,
    action text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    payload_hash text NOT NULL,
    required_approvals integer NOT NULL CHECK (required_approvals BETWEEN 1 AND 10),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    -- For rejections: the reviewer's reason (reaches the agent) and an optional code.
    reason text,
    reason_code text
);
-- The reviewer queue (oldest-expiring first) and the sweeper's scan.
CREATE INDEX approvals_pending_queue ON approvals (workspace_id, expires_at, id) WHERE status = 'pending';
CREATE INDEX approvals_pending_expiry ON approvals (expires_at) WHERE status = 'pending';
CREATE INDEX approvals_decided ON approvals (workspace_id, id DESC) WHERE status <> 'pending';

CREATE TABLE approval_votes (
    approval_id text NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    -- "user:<sub>" or "api_key:<id>"; one vote per reviewer.
    reviewer text NOT NULL,
    reviewer_person text,
    decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment text,
    payload_hash_seen text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (approval_id, reviewer)
);

-- Terminal jobs age out by their last change (history TTL).
CREATE INDEX jobs_terminal_updated ON jobs (updated_at)
    WHERE status IN ('succeeded', 'failed', 'rejected', 'expired', 'cancelled');

-- Why a job ended where it did (a reviewer's rejection reason reaches the agent here).
ALTER TABLE jobs ADD COLUMN status_reason text, ADD COLUMN status_code text;
