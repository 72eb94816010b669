-- Outcome delivery to agents: every status change of a job with a callback_url
-- queues one signed POST, in the same transaction as the change (a trigger, so no
-- code path can forget it). Workers in every replica claim due rows with SKIP LOCKED.
CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    workspace_id text NOT NULL,
    job_id text NOT NULL,
    url text NOT NULL,
    event text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (workspace_id, job_id);

CREATE FUNCTION jobs_queue_webhook() RETURNS trigger AS $$
BEGIN
    INSERT INTO webhook_deliveries (workspace_id, job_id, url, event, payload)
    VALUES (NEW.workspace_id, NEW.id, NEW.callback_url, 'job.status_changed',
        jsonb_build_object(
            'event', 'job.status_changed',
            'job', jsonb_build_object(
                'id', NEW.id, 'workspace', NEW.workspace_id, 'action', NEW.action,
                'status', NEW.status, 'previous_status', OLD.status,
                'status_reason', NEW.status_reason, 'status_code', NEW.status_code,
                'payload_hash', NEW.payload_hash,
                'updated_at', to_char(NEW.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_queue_webhook
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (NEW.callback_url IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION jobs_queue_webhook();
