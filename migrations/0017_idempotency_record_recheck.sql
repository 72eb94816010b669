-- An Idempotency-Key whose job the history purge is deleting cannot make a second job
-- (issue 22 §3, the race 0014 left open).
--
-- A submission inserts its job only if no live idempotency record holds its key (the
-- NOT EXISTS of JobStore's inserts), and the jobs table's unique key stops it while the
-- key's job exists. Both checks miss one moment: an insert whose statement began before
-- the purge committed sees no record (its snapshot is older), waits on the job row the
-- purge is deleting, and once the purge commits finds the key free. Redis normally
-- stops such a retry earlier; this closes the gap when Redis lost the claim.
--
-- The purge writes the record and deletes the job in one transaction, so whenever an
-- insert found the job gone, the record is committed. This trigger looks again, after
-- the statement and with a snapshot of its own (PL/pgSQL takes one per query under READ
-- COMMITTED), and aborts the statement as a serialization failure: JobStore writes it
-- again (TransactionConflict), and the new statement sees the record and answers from
-- it. One run per statement, not per row (a batch of jobs pays one probe of the small
-- idempotency_records table, joined to the rows it inserted).
CREATE FUNCTION jobs_recheck_idempotency_records() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT FROM inserted JOIN idempotency_records AS r USING (workspace_id, idempotency_key)
        WHERE r.expires_at > now()
    ) THEN
        RAISE EXCEPTION 'an idempotency key of this insert was freed by the history purge while it ran'
            USING ERRCODE = 'serialization_failure',
                  HINT = 'Submit again: the key is answered from its idempotency record.';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_recheck_idempotency_records
    AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_recheck_idempotency_records();
