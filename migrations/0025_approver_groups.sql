-- Who must approve, by group, and delegation (issue 27 "Reviewers and groups").

-- A policy's rules such as [{"group": "finance", "count": 2}]; '[]' = any
-- `required_approvals` distinct people, as before.
ALTER TABLE policies ADD COLUMN approvers jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(approvers) = 'array');

-- The rules an approval was submitted under (NULL: none). Kept on the approval, as
-- `required_approvals` is, so changing a policy never changes who may decide a
-- pending approval. No CHECK: the hot tables carry none (migration 0012; each would be
-- planned again for every statement that writes them) — only the server writes it.
ALTER TABLE approvals ADD COLUMN approver_rules jsonb;

-- Under group rules, whose approval a vote could be when it was cast: the voter's own
-- (with the directory's groups then) and anyone's who had delegated to them
-- ([{"person", "groups", "delegated"}]). NULL for every other vote.
ALTER TABLE approval_votes ADD COLUMN standings jsonb;

-- A reviewer's delegate for a period (out of office): the delegate is told of what
-- the reviewer would be told, and their vote may count for the reviewer's groups.
ALTER TABLE reviewers
    ADD COLUMN delegate text CHECK (length(delegate) BETWEEN 1 AND 255),
    ADD COLUMN delegate_from timestamptz,
    ADD COLUMN delegate_until timestamptz,
    ADD CONSTRAINT reviewers_delegation_whole
        CHECK ((delegate IS NULL) = (delegate_from IS NULL) AND (delegate IS NULL) = (delegate_until IS NULL)),
    ADD CONSTRAINT reviewers_delegation_not_self CHECK (delegate <> person),
    ADD CONSTRAINT reviewers_delegation_period CHECK (delegate_until > delegate_from);

CREATE INDEX reviewers_by_delegate ON reviewers (workspace_id, delegate) WHERE delegate IS NOT NULL;
