-- pgbench script: bench/submission-gated.sql with every value GateAPI binds as a
-- parameter bound here too (run with -M prepared and the -D values bench/run passes):
-- the params and audit details arrive as text and are parsed into jsonb on every
-- execution, as they are for GateAPI, instead of once when the statement is prepared.
-- Ids and idempotency keys are built from bound numbers (pgbench cannot build strings).
\set r random(0, 1000000000)
WITH job AS (
    INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                      submitted_by, acts_for, callback_url, required_approvals, expires_at)
    VALUES ('job_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || lpad(to_hex(:client_id::int), 4, '0') || lpad(to_hex(:r::int), 8, '0'),
            :workspace, :action, :params::jsonb, :payload_hash,
            :status, 'pgbench-' || :client_id::text || '-' || :r::text || '-' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, :actor_type, :actor_id,
            :acts_for::text, NULL::text, :required_approvals::int8,
            now() + make_interval(secs => :timeout::int8))
    ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
    RETURNING id, workspace_id, action, params::text, payload_hash, status, idempotency_key, submitted_by_type, submitted_by, acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code, attempts, next_attempt_at, result::text
), approval AS (
    INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at)
    SELECT 'apr_' || substr(job.id, 5), workspace_id, id, action, 'pending', payload_hash, required_approvals, expires_at
    FROM job WHERE status = 'pending_approval'
    RETURNING id
), audit AS (
    INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome, request_id, details)
    SELECT :workspace, :actor_type, :actor_id::text, :actor_ip::text, :submitted_event, :job_target::text, job.id, :outcome, md5(:r::text)::text, :submitted_details::jsonb FROM job
    UNION ALL
    SELECT :workspace, :actor_type, :actor_id::text, :actor_ip::text, :requested_event, :approval_target::text, approval.id, :outcome, md5(:r::text)::text, :requested_details::jsonb FROM approval
)
SELECT id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type, submitted_by, acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code, attempts, next_attempt_at, result FROM job;
