-- A workspace's reviewer directory (issue 27): the people who review there, how to
-- reach them, and their groups. `person` is the id a JWT's `sub` and a console
-- sign-in's subject carry. Changes are audited (`reviewer.changed`, `reviewer.removed`).
CREATE TABLE reviewers (
    workspace_id text NOT NULL REFERENCES workspaces (id),
    person text NOT NULL CHECK (length(person) BETWEEN 1 AND 255),
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name text CHECK (length(display_name) BETWEEN 1 AND 200),
    slack_user_id text CHECK (slack_user_id ~ '^[UW][A-Z0-9]{2,20}$'),
    groups text[] NOT NULL DEFAULT '{}' CHECK (cardinality(groups) <= 20),
    notify boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, person)
);
