-- Two durable facts the jobs table alone lost (issue 22 §3 and §4).

-- 1. An Idempotency-Key stays taken for IDEMPOTENCY_TTL_SECONDS after its job was
-- created, even when the history purge deletes the job sooner (MAX_APPROVAL_HISTORY can
-- purge a busy workspace's jobs within minutes): the purge leaves a record of each key
-- it frees early, in the same statement as the delete, and a submission under a key
-- with a live record is answered from the record instead of creating a job. Only
-- purged keys get a record, so a submission pays one probe of this (small) table and
-- nothing more; records past their expiry are deleted by the purge.
CREATE TABLE idempotency_records (
    workspace_id text NOT NULL REFERENCES workspaces (id),
    idempotency_key idempotency_key NOT NULL,
    payload_hash sha256_hex NOT NULL,
    -- The job the key created, and how it ended: what a replay is told.
    job_id text NOT NULL,
    job_status job_status NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, idempotency_key)
);
CREATE INDEX idempotency_records_expires_at ON idempotency_records (expires_at);

-- 2. Whether an attempt may have delivered a job's message: set (and committed) by the
-- executor before the request to the provider leaves, kept across retries, lease
-- recoveries and requeues, so every later run asks the provider first. Cleared only by
-- an admin who confirms a resend of a job whose delivery could not be checked.
ALTER TABLE jobs ADD COLUMN delivery_started_at timestamptz;

-- Jobs that some attempt already ran before this column existed may have sent.
UPDATE jobs SET delivery_started_at = updated_at
WHERE action = 'gmail.send' AND attempts > 0 AND status IN ('running', 'queued', 'approved', 'dead');
