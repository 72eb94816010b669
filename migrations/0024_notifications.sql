-- Reaching reviewers (issue 27): who a policy's approvals are announced to and when
-- (notices), each message to one person on one channel (deliveries), and the
-- single-use decision links those messages carry.

-- Per policy: which groups hear of its approvals, reminders, escalation, whether
-- links may decide (docs/api.md "Notifications"). '{}' = every reviewer, no reminders.
ALTER TABLE policies ADD COLUMN notifications jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(notifications) = 'object');

-- Durable timers: "announce this approval now", "remind at 50 %", "escalate after
-- an hour". Every replica sweeps due rows with SKIP LOCKED; a notice is marked done
-- in the transaction that queues its deliveries, so each fires exactly once.
CREATE TABLE approval_notices (
    id bigserial PRIMARY KEY,
    workspace_id text NOT NULL,
    approval_id text NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('requested', 'reminder', 'escalation', 'decided')),
    -- Which reminder (0, 1, …); 0 for the others.
    seq smallint NOT NULL DEFAULT 0,
    due_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz,
    UNIQUE (approval_id, kind, seq)
);
CREATE INDEX approval_notices_due ON approval_notices (due_at) WHERE done_at IS NULL;

-- One message to one person on one channel for one notice: the unique key is what
-- makes "never twice to the same reviewer for the same event" hold across replicas.
CREATE TABLE notification_deliveries (
    id bigserial PRIMARY KEY,
    notice_id bigint NOT NULL REFERENCES approval_notices (id) ON DELETE CASCADE,
    workspace_id text NOT NULL,
    approval_id text NOT NULL,
    person text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('email', 'slack')),
    -- The email address or Slack member id it went to (the directory may change).
    address text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    -- Gmail's message id, or Slack's `channel ts` (to update the message once decided).
    external_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (notice_id, person, channel)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_deliveries_approval ON notification_deliveries (workspace_id, approval_id, id);

-- Capability tokens in notifications: one approval, one person, one payload hash, one
-- decision; used once, before expires_at. Only the SHA-256 of the token is kept.
CREATE TABLE decision_links (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    workspace_id text NOT NULL,
    approval_id text NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    person text NOT NULL,
    decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
    payload_hash text NOT NULL,
    delivery_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX decision_links_approval ON decision_links (approval_id);

-- Every new approval that anybody is to hear of gets its "requested" notice in the
-- statement that creates it (Persistence/JobStore.swift `requestedNotice`: a CTE of the
-- submission's own INSERT, measured cheaper than a row trigger — bench/RESULTS.md
-- "Approval notices"). Reminders and escalations are queued when the requested notice
-- is processed, from the policy of that moment.

-- A decided approval's Slack messages are updated to say who decided (only approvals
-- that have any: an expiry sweep of approvals nobody was told of writes nothing more).
CREATE FUNCTION approvals_queue_decided_notice() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM notification_deliveries
               WHERE workspace_id = NEW.workspace_id AND approval_id = NEW.id AND channel = 'slack') THEN
        INSERT INTO approval_notices (workspace_id, approval_id, kind) VALUES (NEW.workspace_id, NEW.id, 'decided')
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER approvals_queue_decided_notice
    AFTER UPDATE OF status ON approvals
    FOR EACH ROW
    WHEN (OLD.status = 'pending' AND NEW.status <> 'pending')
    EXECUTE FUNCTION approvals_queue_decided_notice();

-- The development outbox keeps notification emails too: a message is now known by
-- its own id (a job's id for a job's message, `ntf-<delivery>` for a notification).
ALTER TABLE dev_outbox ADD COLUMN outbox_id text;
UPDATE dev_outbox SET outbox_id = job_id;
ALTER TABLE dev_outbox ALTER COLUMN outbox_id SET NOT NULL;
ALTER TABLE dev_outbox DROP CONSTRAINT dev_outbox_pkey;
ALTER TABLE dev_outbox ADD PRIMARY KEY (outbox_id);
