-- The tamper-evident audit chain (SPEC §4 Audit; docs/audit.md).
--
-- audit_events stays exactly as it is written: one INSERT per event, no lock, no
-- hash on the submission path. Events are chained afterwards, per workspace, by
-- audit_seal(): it takes committed events from the audit_unsealed queue in seq
-- order and appends them to audit_chain with the next position of that workspace
-- and hash = SHA-256(audit_canonical(event, position, prev_hash)). Positions are
-- given at seal time, so an event whose transaction commits after a later-numbered
-- one was sealed simply gets the next position: nothing is ever skipped or re-sealed.
-- audit_events.prev_hash and .hash are not used (the chain lives in audit_chain).

-- Events not yet chained: filled by a trigger in the inserting transaction (so no
-- code path can forget it), emptied by audit_seal().
CREATE TABLE audit_unsealed (
    workspace_id text NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);

-- The chain: append-only, one row per event, positions 1, 2, 3 … per workspace.
CREATE TABLE audit_chain (
    seq bigint PRIMARY KEY REFERENCES audit_events (seq),
    workspace_id text NOT NULL,
    position bigint NOT NULL CHECK (position > 0),
    prev_hash bytea CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    sealed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (workspace_id, position),
    CHECK ((position = 1) = (prev_hash IS NULL))
);

CREATE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_chain_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_chain_no_truncate
    BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- One statement-level trigger per INSERT (a bulk insert queues all its rows at once).
-- SECURITY DEFINER: the application role needs no privilege on the queue itself.
CREATE FUNCTION audit_queue_for_sealing() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO audit_unsealed (workspace_id, seq) SELECT workspace_id, seq FROM inserted;
    RETURN NULL;
END;
$$;

CREATE TRIGGER audit_events_queue_for_sealing
    AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_for_sealing();

-- Events written before this migration are queued once, in seq order.
INSERT INTO audit_unsealed (workspace_id, seq) SELECT workspace_id, seq FROM audit_events;

-- occurred_at as it is hashed and exported: RFC 3339, UTC, microseconds.
CREATE FUNCTION audit_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- The canonical encoding (docs/audit.md): Postgres's jsonb text of this array.
-- Empty strings count as null, so a CSV export (which cannot tell them apart)
-- still verifies. A later encoding gets a new version tag, never a changed one.
CREATE FUNCTION audit_canonical(e audit_events, p_position bigint, p_prev_hash bytea) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array(
        'gateapi.audit.v1', p_position, encode(p_prev_hash, 'hex'), e.seq, e.workspace_id,
        audit_time(e.occurred_at), e.actor_type, nullif(e.actor_id, ''), nullif(e.actor_ip, ''),
        e.action, nullif(e.target_type, ''), nullif(e.target_id, ''), e.outcome,
        nullif(e.request_id, ''), e.details)::text
$$;

-- Chains up to p_max committed, unsealed events of one workspace, in seq order;
-- returns how many, or -1 when another session is sealing this workspace and the
-- lock did not come within p_lock_wait_ms (0: do not wait). Run it in autocommit or
-- a READ COMMITTED transaction: it must see the chain head its predecessor committed.
-- The per-workspace advisory lock is held only for this short transaction and only
-- by sealers: event inserts never wait for it, and workspaces never wait for each other.
CREATE FUNCTION audit_seal(p_workspace text, p_max integer, p_lock_wait_ms integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_lock_timeout text;
    v_position bigint;
    v_hash bytea;
    v_next bytea;
    v_event audit_events;
    v_seqs bigint[] := '{}';
    v_positions bigint[] := '{}';
    v_prevs bytea[] := '{}';
    v_hashes bytea[] := '{}';
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit_seal needs READ COMMITTED, not %', current_setting('transaction_isolation');
    END IF;
    IF p_lock_wait_ms <= 0 THEN
        IF NOT pg_try_advisory_xact_lock(hashtext('gateapi.audit_seal'), hashtext(p_workspace)) THEN
            RETURN -1;
        END IF;
    ELSE
        v_lock_timeout := current_setting('lock_timeout');
        PERFORM set_config('lock_timeout', p_lock_wait_ms || 'ms', true);
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('gateapi.audit_seal'), hashtext(p_workspace));
        EXCEPTION WHEN lock_not_available THEN
            PERFORM set_config('lock_timeout', v_lock_timeout, true);
            RETURN -1;
        END;
        PERFORM set_config('lock_timeout', v_lock_timeout, true);
    END IF;

    SELECT c.position, c.hash INTO v_position, v_hash
    FROM audit_chain c WHERE c.workspace_id = p_workspace ORDER BY c.position DESC LIMIT 1;
    v_position := coalesce(v_position, 0);

    FOR v_event IN
        SELECT e.* FROM audit_unsealed u JOIN audit_events e ON e.seq = u.seq
        WHERE u.workspace_id = p_workspace ORDER BY u.seq LIMIT p_max
    LOOP
        v_position := v_position + 1;
        v_next := sha256(convert_to(audit_canonical(v_event, v_position, v_hash), 'UTF8'));
        v_seqs := v_seqs || v_event.seq;
        v_positions := v_positions || v_position;
        v_prevs := v_prevs || v_hash;
        v_hashes := v_hashes || v_next;
        v_hash := v_next;
    END LOOP;
    IF cardinality(v_seqs) = 0 THEN
        RETURN 0;
    END IF;

    INSERT INTO audit_chain (seq, workspace_id, position, prev_hash, hash)
    SELECT s, p_workspace, p, ph, h FROM unnest(v_seqs, v_positions, v_prevs, v_hashes) AS t (s, p, ph, h);
    DELETE FROM audit_unsealed WHERE workspace_id = p_workspace AND seq = ANY (v_seqs);
    RETURN cardinality(v_seqs);
END;
$$;

-- Least privilege. The application role needs only:
--   INSERT, SELECT on audit_events (and USAGE on its sequence), SELECT on audit_chain
--   and audit_unsealed, EXECUTE on audit_seal().
-- It needs no UPDATE, DELETE or TRUNCATE on any audit table, and no write access to
-- audit_chain or audit_unsealed at all: the SECURITY DEFINER functions above do
-- those writes as the owner (the role that runs migrations), and only those writes.
-- The triggers refuse changes even to the owner; only a superuser (or the owner
-- disabling triggers) can bypass them, and `gate-api audit verify` finds the edit.
-- If a role named gateapi_app exists when this runs, it gets exactly these grants:
-- create it first (CREATE ROLE gateapi_app LOGIN PASSWORD '…') and point
-- DATABASE_URL at it, keeping the owner for `gate-api migrate`.
REVOKE ALL ON FUNCTION audit_seal(text, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_queue_for_sealing() FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateapi_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_chain, audit_unsealed FROM gateapi_app;
        GRANT SELECT, INSERT ON audit_events TO gateapi_app;
        GRANT USAGE ON SEQUENCE audit_events_seq_seq TO gateapi_app;
        GRANT SELECT ON audit_chain, audit_unsealed TO gateapi_app;
        GRANT EXECUTE ON FUNCTION audit_seal(text, integer, integer) TO gateapi_app;
    END IF;
END;
$$;
