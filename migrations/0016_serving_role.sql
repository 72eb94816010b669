-- Least privilege by default (README "Database roles"). `gate-api migrate` runs as the
-- owner of the schema; `gate-api serve` runs as gateapi_app, which this migration
-- creates (if it does not exist) and grants exactly what serving needs:
--   SELECT, INSERT, UPDATE, DELETE on the tables, USAGE on their sequences, EXECUTE
--   on the functions (audit_seal() included);
--   SELECT, INSERT on audit_events and only SELECT on audit_chain, audit_unsealed and
--   schema_migrations (the SECURITY DEFINER functions of 0007 write the chain).
-- It owns nothing and may create nothing, so it cannot ALTER, DROP, TRUNCATE or
-- DISABLE TRIGGER on any table, nor UPDATE or DELETE an audit row.
--
-- Tables, sequences and functions that later migrations create get the same grants
-- automatically (ALTER DEFAULT PRIVILEGES below: for objects the migrating role creates
-- in schema public). A later table that must be append-only revokes UPDATE and DELETE
-- from gateapi_app itself, as this file does for the audit tables; a SECURITY DEFINER
-- function serve must not call revokes EXECUTE. ServingRoleTests checks both rules for
-- every table, so a migration that forgets is caught.
--
-- The role is created with LOGIN and no password: Postgres refuses a password login
-- to a role without one, so it can log in only where the server trusts the connection
-- (the loopback clusters of scripts/dev and scripts/test) until an operator gives it a
-- password (ALTER ROLE gateapi_app PASSWORD '…'), or it is used through SET ROLE
-- (DATABASE_ROLE). Roles belong to the whole cluster, so every database of the
-- cluster migrated by GateAPI shares this one role (each grants it only its own tables).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateapi_app') THEN
        BEGIN
            CREATE ROLE gateapi_app LOGIN;
        EXCEPTION
            -- Another database of this cluster migrating at the same moment created it
            -- (advisory locks are per database, so they do not serialise this).
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'gate-api migrate cannot create the serving role gateapi_app: %', SQLERRM
                    USING HINT = 'Create it once as a role with CREATEROLE (CREATE ROLE gateapi_app LOGIN PASSWORD ''…''), then migrate again.';
        END;
    END IF;
END;
$$;

-- With one login (DATABASE_ROLE, README "Database roles") the migrating role must be
-- allowed to SET ROLE gateapi_app. A superuser always is; since Postgres 16 a role
-- that created another with CREATEROLE holds it only WITH ADMIN, SET FALSE, so it is
-- granted here. A failure only affects DATABASE_ROLE, which then names the problem
-- at connection time, so it is a warning.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        BEGIN
            EXECUTE 'GRANT gateapi_app TO ' || quote_ident(current_user);
        EXCEPTION
            WHEN unique_violation THEN NULL;
            WHEN OTHERS THEN
                RAISE WARNING 'cannot grant gateapi_app to %: % (DATABASE_ROLE=gateapi_app will not work for it)', current_user, SQLERRM;
        END;
    END IF;
END;
$$;

-- Nobody but the owner creates objects in public (the default since Postgres 15;
-- older clusters let every role create tables there). A warning, not an error, when
-- the migrating role does not own the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO gateapi_app;
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO gateapi_app', current_database());
END;
$$;

-- Everything there is today. TRUNCATE, REFERENCES and TRIGGER are never granted (and
-- taken back if an operator granted them before).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO gateapi_app;
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM gateapi_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO gateapi_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO gateapi_app;

-- What later migrations create (run by this same role).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO gateapi_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO gateapi_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO gateapi_app;

-- The exceptions: the audit tables are append-only, the chain and its queue are
-- written only by audit_seal() and audit_queue_for_sealing() (SECURITY DEFINER, owned
-- by the migrating role), and only `gate-api migrate` records migrations.
REVOKE UPDATE, DELETE ON audit_events FROM gateapi_app;
REVOKE INSERT, UPDATE, DELETE ON audit_chain, audit_unsealed, schema_migrations FROM gateapi_app;
-- And any other table the earlier migrations made append-only with the refusing
-- triggers of 0002 and 0007 (migrations after this one revoke for their own tables).
DO $$
DECLARE
    v_table regclass;
BEGIN
    FOR v_table IN
        SELECT DISTINCT t.tgrelid::regclass FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE NOT t.tgisinternal AND p.proname IN ('audit_refuse_change', 'audit_events_append_only')
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE ON %s FROM gateapi_app', v_table);
    END LOOP;
END;
$$;
