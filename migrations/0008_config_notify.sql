-- Replicas keep API keys and policies in memory for a few seconds (the hot path would
-- otherwise read both on every request). Every change that matters to them is announced
-- on `gateapi_config`, in the changing transaction, so each replica drops its copy when
-- the change commits: 'key:<id>' and 'policy:<workspace>:<action>'.
-- `last_used_at` is not among the key columns: touching it must not empty caches.
CREATE FUNCTION api_keys_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('gateapi_config', 'key:' || OLD.id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER api_keys_notify_change
    AFTER UPDATE OF workspace_id, scopes, secret_hash, previous_secret_hash, previous_secret_expires_at,
        acts_for, expires_at, revoked_at
        OR DELETE ON api_keys
    FOR EACH ROW
    EXECUTE FUNCTION api_keys_notify_change();

CREATE FUNCTION policies_notify_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('gateapi_config', 'policy:' || OLD.workspace_id || ':' || OLD.action);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('gateapi_config', 'policy:' || NEW.workspace_id || ':' || NEW.action);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER policies_notify_change
    AFTER INSERT OR UPDATE OR DELETE ON policies
    FOR EACH ROW
    EXECUTE FUNCTION policies_notify_change();
