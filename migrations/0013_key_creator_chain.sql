-- Separation of duties across key administration (issue 22): whoever created, directly
-- or transitively, the credential that submitted a job may not approve that job. Each
-- key records that chain: the principal that created it ("user:<sub>",
-- "api_key:<id>", "cli"), that creator's own chain when it was a key, and everyone who
-- later rotated it (a rotation hands over a secret, so it creates the key anew) with
-- their chains. A vote reads the submitting key's chain (ApprovalStore.stateQuery).
-- A constant default: no table rewrite.
ALTER TABLE api_keys ADD COLUMN creator_chain text[] NOT NULL DEFAULT '{}';

-- Keys from before: their chain from `created_by`, following keys made by keys back to
-- the first one made by a person or the CLI. (Who rotated them was not recorded.)
WITH RECURSIVE chain (id, creators) AS (
    SELECT id, ARRAY[created_by] FROM api_keys WHERE created_by NOT LIKE 'api_key:%'
    UNION ALL
    SELECT k.id, k.created_by || c.creators
    FROM api_keys k JOIN chain c ON k.created_by = 'api_key:' || c.id
)
UPDATE api_keys SET creator_chain = chain.creators FROM chain WHERE api_keys.id = chain.id;
-- A key whose creating key is gone: at least its direct creator.
UPDATE api_keys SET creator_chain = ARRAY[created_by] WHERE creator_chain = '{}';
