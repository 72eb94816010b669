-- pgbench script: submission-gated-batch.sql as it was before the approval notices
-- (issue 27): the same statement without the `notice` CTE (and the approval CTE
-- returning only id, job_id), kept to measure what that CTE costs
-- (bench/approval-notices.sh). Everything else is the current statement.
-- The statement GateAPI commits for a batch of gated (gmail.send)
-- submissions (Sources/Persistence/JobStore.swift `BatchInsertStatement`, written by
-- `JobInsertBatcher`): :n jobs, their approvals and both audit rows of each, in one
-- statement and one commit. GateAPI binds the batch as one jsonb array; here the array
-- is built from :n, :r and the client id (pgbench cannot bind strings it builds), and
-- Postgres parses it on every execution as it does GateAPI's. jobs/s = tps × :n.
\set r random(0, 1000000000)
WITH batch AS (
    SELECT jsonb_agg(jsonb_build_object(
        'ord', g, 'id', t.id, 'approval_id', 'apr_' || substr(t.id, 5), 'workspace_id', 'bench', 'action', 'gmail.send',
        'params', '{"to": ["ann@example.com"], "subject": "Quarterly report", "text": "Attached."}'::jsonb,
        'payload_hash', '0000000000000000000000000000000000000000000000000000000000000000',
        'status', 'pending_approval', 'idempotency_key', 'pgbench-' || t.id, 'submitted_by_type', 'api_key',
        'submitted_by', 'pgbenchkey000000', 'acts_for', 'bench-agent', 'callback_url', NULL, 'required_approvals', 1,
        'approval_timeout', 86400, 'actor_type', 'api_key', 'actor_id', 'pgbenchkey000000', 'actor_ip', '127.0.0.1',
        'request_id', md5(t.id),
        'submitted_details', '{"action": "gmail.send", "payload_hash": "0000000000000000000000000000000000000000000000000000000000000000", "status": "pending_approval", "required_approvals": 1}'::jsonb,
        'requested_details', jsonb_build_object('job_id', t.id, 'required_approvals', 1)))::text AS input
    FROM generate_series(1, :n) AS g,
         LATERAL (SELECT 'job_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0')
                         || lpad(to_hex(:client_id::int), 4, '0') || lpad(to_hex(:r::int), 8, '0') || g AS id) AS t
), input AS (
    SELECT i.* FROM batch, jsonb_to_recordset(batch.input::jsonb) AS i(
        ord int, id text, approval_id text, workspace_id text, action text, params jsonb, payload_hash text,
        status text, idempotency_key text, submitted_by_type text, submitted_by text, acts_for text,
        callback_url text, required_approvals int8, approval_timeout int8, actor_type text, actor_id text,
        actor_ip text, request_id text, submitted_details jsonb, requested_details jsonb)
), job AS (
    INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                      submitted_by, acts_for, callback_url, required_approvals, expires_at)
    SELECT id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
           submitted_by, acts_for, callback_url, required_approvals, now() + make_interval(secs => approval_timeout)
    FROM input
    WHERE NOT EXISTS (
        SELECT FROM idempotency_records AS r
        WHERE r.workspace_id = input.workspace_id AND r.idempotency_key = input.idempotency_key
          AND r.expires_at > now())
    ORDER BY workspace_id, idempotency_key, ord
    ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
    RETURNING id, workspace_id, action, params::text, payload_hash, status, idempotency_key, submitted_by_type, submitted_by, acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code, attempts, next_attempt_at, result::text
), approval AS (
    INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at)
    SELECT input.approval_id, job.workspace_id, job.id, job.action, 'pending', job.payload_hash,
           job.required_approvals, job.expires_at
    FROM job JOIN input ON input.id = job.id WHERE job.status = 'pending_approval'
    RETURNING id, job_id
), audit AS (
    INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome,
                              request_id, details)
    SELECT workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, 'success', request_id, details
    FROM (
        SELECT input.ord, 0 AS step, input.workspace_id, input.actor_type, input.actor_id, input.actor_ip,
               'job.submitted' AS action, 'job' AS target_type, job.id AS target_id, input.request_id,
               input.submitted_details AS details
        FROM job JOIN input ON input.id = job.id
        UNION ALL
        SELECT input.ord, 1, input.workspace_id, input.actor_type, input.actor_id, input.actor_ip,
               'approval.requested', 'approval', approval.id, input.request_id, input.requested_details
        FROM approval JOIN input ON input.id = approval.job_id
    ) AS rows
    ORDER BY ord, step
)
SELECT id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type, submitted_by, acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code, attempts, next_attempt_at, result FROM job;
