-- The reviewer console (issue 25): single-use sign-in links, server-side sessions, and
-- the development outbox. Secrets are stored only as SHA-256 hashes: a copy of these
-- tables signs nobody in.

-- `gate-api console link` (development sign-in). Redeemed once (used_at), within minutes.
CREATE TABLE console_sign_in_links (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    -- Workspace id → scope names, exactly as a JWT's `ws` claim.
    memberships jsonb NOT NULL CHECK (jsonb_typeof(memberships) = 'object'),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX console_sign_in_links_expiry ON console_sign_in_links (expires_at);

-- A signed-in person. Valid while not ended, before expires_at (the absolute limit)
-- and within the idle limit of last_seen_at (which the server moves at most once a
-- minute, so that reading pages does not write a row per request).
CREATE TABLE console_sessions (
    id_hash bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    memberships jsonb NOT NULL CHECK (jsonb_typeof(memberships) = 'object'),
    -- Sent back in every form; compared in constant time.
    csrf_token text NOT NULL,
    signed_in_with text NOT NULL CHECK (signed_in_with IN ('link', 'oidc')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- EMAIL_DELIVERY=outbox (development only): what gmail.send would have sent, kept
-- instead of sending it. One message per job, as Gmail's own idempotency check gives.
CREATE TABLE dev_outbox (
    job_id text PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    message_id text NOT NULL,
    recipients text[] NOT NULL,
    subject text NOT NULL,
    raw text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dev_outbox_by_workspace ON dev_outbox (workspace_id, created_at DESC, job_id);

-- The console's live queue: a decided approval is announced as '<workspace>:approvals'
-- on the job events channel (a vote's transaction already notifies for its job, so this
-- adds no commit-time lock of its own; Postgres folds identical notifications). A new
-- approval is not announced from here: a NOTIFY in every submission's transaction
-- serialises their commits on the notification queue's lock (a quarter of the gated
-- submissions' statement throughput, bench/RESULTS.md "Console queue page"); the
-- replica that inserts it tells its own viewers in memory, and the others' pages
-- refresh on a timer.
CREATE FUNCTION approvals_notify_status() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('gateapi_jobs', NEW.workspace_id || ':approvals');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER approvals_notify_status
    AFTER UPDATE OF status ON approvals
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION approvals_notify_status();
