-- pgbench script: the statement GateAPI commits for one gated (gmail.send) submission
-- written alone (Sources/Persistence/JobStore.swift `insert(_: JobInsert)` and
-- AuditInterpolation.swift `auditFrom`; submissions that arrive together share
-- submission-gated-batch.sql):
-- the job, its `job.submitted` audit row, its approval and the `approval.requested` audit row,
-- in one statement. Ids are time-ordered with a random tail, like SortableID; keys are unique.
\set r random(0, 1000000000)
WITH job AS (
    INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                      submitted_by, acts_for, callback_url, required_approvals, expires_at)
    VALUES ('job_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || lpad(to_hex(:client_id::int), 4, '0') || lpad(to_hex(:r::int), 8, '0'),
            'bench', 'gmail.send', '{"to": ["ann@example.com"], "subject": "Quarterly report", "text": "Attached."}'::jsonb, '0000000000000000000000000000000000000000000000000000000000000000',
            'pending_approval', 'pgbench-' || :client_id::text || '-' || :r::text || '-' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, 'api_key', 'pgbenchkey000000',
            'bench-agent', NULL, 1,
            now() + make_interval(secs => 86400))
    ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
    RETURNING id, workspace_id, action, params::text, payload_hash, status, idempotency_key, submitted_by_type, submitted_by, acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code, attempts, next_attempt_at, result::text
), approval AS (
    INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at)
    SELECT 'apr_' || substr(job.id, 5), workspace_id, id, action, 'pending', payload_hash, required_approvals, expires_at
    FROM job WHERE status = 'pending_approval'
    RETURNING id
), audit AS (
    INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome, request_id, details)
    SELECT 'bench', 'api_key', 'pgbenchkey000000', '127.0.0.1', 'job.submitted', 'job', job.id, 'success', md5(:r::text), '{"action": "gmail.send", "payload_hash": "0000000000000000000000000000000000000000000000000000000000000000", "status": "pending_approval", "required_approvals": 1}'::jsonb FROM job
    UNION ALL
    SELECT 'bench', 'api_key', 'pgbenchkey000000', '127.0.0.1', 'approval.requested', 'approval', approval.id, 'success', md5(:r::text), '{"job_id": "x", "required_approvals": 1}'::jsonb FROM approval
)
SELECT id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type, submitted_by, acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code, attempts, next_attempt_at, result FROM job;
