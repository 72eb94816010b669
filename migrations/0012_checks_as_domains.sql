-- The CHECK constraints of the tables every submission, decision and execution
-- writes, moved into domains: the same rules, paid for once per connection instead
-- of once per statement. Postgres reads a table's CHECK expressions back from their
-- stored text, plans and compiles them for every INSERT and UPDATE (jobs' status list
-- alone ≈ 9 µs a statement); a domain's check is planned once and kept in the
-- connection's type cache (≈ 1.5 µs). In a profile of gated submissions the CHECKs took
-- 11 % of Postgres's CPU, two thirds of it this setup (bench/RESULTS.md, eleventh round).
--
-- The domains have no constraint while the columns change type, so no table is
-- rewritten or rescanned (a binary-coercible change keeps the tables' files and the
-- indexes on these columns; only the partial indexes whose predicates name status are
-- built again: 3.2 s in all with a million jobs, under the tables' exclusive lock). The
-- constraints are then added NOT VALID: every new value is checked, and the rows
-- already there were checked by the identical CHECK constraints dropped here.
CREATE DOMAIN job_status AS text;
CREATE DOMAIN sha256_hex AS text;
CREATE DOMAIN idempotency_key AS text;
CREATE DOMAIN approval_status AS text;
CREATE DOMAIN approval_count AS integer;
CREATE DOMAIN audit_outcome AS text;

-- A trigger whose definition names a column blocks a change of its type: these two
-- are dropped and created again, as they were (0005, 0006).
DROP TRIGGER jobs_queue_webhook ON jobs;
DROP TRIGGER jobs_notify_status ON jobs;

ALTER TABLE jobs
    DROP CONSTRAINT jobs_status_check,
    DROP CONSTRAINT jobs_payload_hash_check,
    DROP CONSTRAINT jobs_idempotency_key_check,
    ALTER COLUMN status TYPE job_status,
    ALTER COLUMN payload_hash TYPE sha256_hex,
    ALTER COLUMN idempotency_key TYPE idempotency_key;
ALTER TABLE approvals
    DROP CONSTRAINT approvals_status_check,
    DROP CONSTRAINT approvals_required_approvals_check,
    ALTER COLUMN status TYPE approval_status,
    ALTER COLUMN required_approvals TYPE approval_count;
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_outcome_check,
    ALTER COLUMN outcome TYPE audit_outcome;

ALTER DOMAIN job_status ADD CONSTRAINT job_status_check CHECK (VALUE IN (
    'pending_approval', 'queued', 'approved', 'running', 'succeeded', 'failed',
    'rejected', 'expired', 'cancelled', 'dead')) NOT VALID;
ALTER DOMAIN sha256_hex ADD CONSTRAINT sha256_hex_check CHECK (VALUE ~ '^[0-9a-f]{64}$') NOT VALID;
ALTER DOMAIN idempotency_key ADD CONSTRAINT idempotency_key_check
    CHECK (length(VALUE) BETWEEN 1 AND 255) NOT VALID;
ALTER DOMAIN approval_status ADD CONSTRAINT approval_status_check
    CHECK (VALUE IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')) NOT VALID;
ALTER DOMAIN approval_count ADD CONSTRAINT approval_count_check CHECK (VALUE BETWEEN 1 AND 10) NOT VALID;
ALTER DOMAIN audit_outcome ADD CONSTRAINT audit_outcome_check
    CHECK (VALUE IN ('success', 'denied', 'failure')) NOT VALID;

CREATE TRIGGER jobs_queue_webhook
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (NEW.callback_url IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION jobs_queue_webhook();
CREATE TRIGGER jobs_notify_status
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION jobs_notify_status();

-- Changing a column's type drops its statistics; the planner's estimates for status
-- (the partial indexes, the history purge) should not wait for autovacuum.
ANALYZE jobs (status, payload_hash, idempotency_key);
ANALYZE approvals (status, required_approvals);
ANALYZE audit_events (outcome);
