-- Per-workspace webhook signing secrets (Standard Webhooks `webhook-signature`), so one
-- tenant's receiver cannot forge another tenant's events as it could with the one
-- server-wide WEBHOOK_SECRET. Sealed under SECRETS_KEY like Gmail credentials. A
-- workspace has at most one current secret (expires_at NULL); rotating gives the
-- previous one an end (the overlap, during which both sign) and ends any older one.
CREATE TABLE webhook_secrets (
    id text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    sealed text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE UNIQUE INDEX webhook_secrets_current ON webhook_secrets (workspace_id) WHERE expires_at IS NULL;
CREATE INDEX webhook_secrets_workspace ON webhook_secrets (workspace_id, created_at DESC);
