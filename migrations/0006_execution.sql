-- Execution (SPEC §4): workers in every replica claim runnable jobs with a lease.
-- A claim sets status = 'running', counts the attempt and leases the row until
-- lease_expires_at; a replica that dies mid-run leaves an expired lease, and the job
-- is claimed again. Only the holder of lease_token may record the outcome.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN (
    'pending_approval', 'queued', 'approved', 'running', 'succeeded', 'failed',
    'rejected', 'expired', 'cancelled', 'dead'));

ALTER TABLE jobs
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    -- When an approved or queued job may next run (later than now after a failed attempt).
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lease_token text,
    ADD COLUMN lease_expires_at timestamptz,
    -- What the provider answered (Gmail message id, task id); never a message body.
    ADD COLUMN result jsonb;

CREATE INDEX jobs_runnable ON jobs (next_attempt_at) WHERE status IN ('approved', 'queued');
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'running';

-- A workspace's task list, filled by task.create. One task per job (UNIQUE job_id),
-- so no retry can create a second; no foreign key to jobs, because the history purge
-- deletes old jobs and their tasks must stay.
CREATE TABLE tasks (
    id text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    job_id text NOT NULL UNIQUE,
    title text NOT NULL,
    description text,
    due_at timestamptz,
    assignee text,
    labels text[] NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_workspace_id ON tasks (workspace_id, id DESC);

-- Gmail OAuth credentials per workspace, sealed with AES-256-GCM under SECRETS_KEY
-- (bound to the workspace id); only `kind` is readable without the key.
CREATE TABLE gmail_credentials (
    workspace_id text PRIMARY KEY REFERENCES workspaces (id),
    kind text NOT NULL CHECK (kind IN ('access_token', 'refresh_token')),
    sealed text NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every status change is announced to long-polls and event streams on all replicas
-- ('<workspace>:<job>'), and a job that becomes runnable wakes the executors
-- ('*runnable'). Postgres folds identical notifications within a transaction, so
-- code that also notifies explicitly causes no duplicates.
CREATE FUNCTION jobs_notify_status() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('gateapi_jobs', NEW.workspace_id || ':' || NEW.id);
    IF NEW.status IN ('approved', 'queued') THEN
        PERFORM pg_notify('gateapi_jobs', '*runnable');
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_notify_status
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION jobs_notify_status();
