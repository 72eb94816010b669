-- The job lifecycle, enforced where every writer meets (issue 23): a job's status moves
-- only as `JobStatus.allowedNext` (Sources/Approvals/JobStatus.swift) says, whichever
-- statement moves it. Above all, nothing moves a job waiting for approval to running,
-- queued or succeeded: only a decision (approved, rejected), its expiry or its
-- cancellation ends the wait, so no query — a bug, or a hand-written fix — can get a
-- job around the gate. Terminal statuses never change. SchemaRulesTests checks that this
-- table and the Swift one say the same for every pair.
CREATE FUNCTION job_status_allowed(old job_status, new job_status) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE old::text
        WHEN 'pending_approval' THEN new::text IN ('approved', 'rejected', 'expired', 'cancelled')
        WHEN 'approved' THEN new::text IN ('running')
        WHEN 'queued' THEN new::text IN ('running')
        WHEN 'running' THEN new::text IN ('succeeded', 'failed', 'dead', 'approved', 'queued')
        WHEN 'dead' THEN new::text IN ('approved', 'queued')
        ELSE false
    END
$$;

CREATE FUNCTION jobs_check_status_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT job_status_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'job % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER jobs_status_transition
    BEFORE UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION jobs_check_status_transition();
