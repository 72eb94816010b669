-- pgbench script: the statement GateAPI commits for one gated (gmail.send) submission
-- written alone (Sources/Persistence/JobStore.swift `insertQuery` and
-- AuditInterpolation.swift `auditFrom`; submissions that arrive together share
-- submission-gated-batch.sql):
-- the job (unless a live `idempotency_records` row holds its key), its approval, the
-- approval's "requested" notice when anybody is to hear of it (`requestedNotice`; here
-- only if workspace 'bench' has a reviewer with notify, as callback_url is NULL), and the
-- `job.submitted` and `approval.requested` audit rows, in one statement. Ids are
-- time-ordered with a random tail, like SortableID. The key is built from two random
-- numbers (not the clock) because the statement names it twice, in the insert and in
-- the probe, which must look up the same key.
\set r random(0, 1000000000)
\set k random(0, 1000000000)
WITH job AS (
    INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                      submitted_by, acts_for, callback_url, required_approvals, expires_at)
    SELECT 'job_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || lpad(to_hex(:client_id::int), 4, '0') || lpad(to_hex(:r::int), 8, '0'),
           'bench', 'gmail.send', '{"to": ["ann@example.com"], "subject": "Quarterly report", "text": "Attached."}'::jsonb, '0000000000000000000000000000000000000000000000000000000000000000',
           'pending_approval', 'pgbench-' || :client_id::text || '-' || :r::text || '-' || :k::text, 'api_key', 'pgbenchkey000000',
           'bench-agent'::text, NULL::text, 1::int8,
           now() + make_interval(secs => 86400::int8)
    WHERE NOT EXISTS (
        SELECT FROM idempotency_records
        WHERE workspace_id = 'bench' AND idempotency_key = 'pgbench-' || :client_id::text || '-' || :r::text || '-' || :k::text AND expires_at > now())
    ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
    RETURNING id, workspace_id, action, params::text, payload_hash, status, idempotency_key, submitted_by_type, submitted_by, acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code, attempts, next_attempt_at, result::text
), approval AS (
    INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at)
    SELECT 'apr_' || substr(job.id, 5), workspace_id, id, action, 'pending', payload_hash, required_approvals, expires_at
    FROM job WHERE status = 'pending_approval'
    RETURNING id, workspace_id, job_id
), notice AS (
    INSERT INTO approval_notices (workspace_id, approval_id, kind)
    SELECT approval.workspace_id, approval.id, 'requested' FROM approval JOIN job ON job.id = approval.job_id
    WHERE job.callback_url IS NOT NULL
       OR EXISTS (SELECT FROM reviewers AS r WHERE r.workspace_id = approval.workspace_id AND r.notify)
), audit AS (
    INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome, request_id, details)
    SELECT 'bench', 'api_key', 'pgbenchkey000000'::text, '127.0.0.1'::text, 'job.submitted', 'job'::text, job.id, 'success', md5(:r::text)::text, '{"action": "gmail.send", "payload_hash": "0000000000000000000000000000000000000000000000000000000000000000", "status": "pending_approval", "required_approvals": 1}'::jsonb FROM job
    UNION ALL
    SELECT 'bench', 'api_key', 'pgbenchkey000000'::text, '127.0.0.1'::text, 'approval.requested', 'approval'::text, approval.id, 'success', md5(:r::text)::text, '{"job_id": "x", "required_approvals": 1}'::jsonb FROM approval
)
SELECT id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type, submitted_by, acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code, attempts, next_attempt_at, result FROM job;
