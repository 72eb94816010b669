-- gmail.send attachments and inline images (issue 26). The job's params describe each
-- file (name, type, size, SHA-256) and are hashed into its payload_hash; the bytes are
-- kept here, written in the submission's transaction, read back by the executor (which
-- checks every hash before sending) and by reviewers' downloads, and deleted with the
-- job by the history purge. One row per distinct content of a job: the same bytes
-- attached twice are stored once.
CREATE TABLE job_attachments (
    job_id text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    workspace_id text NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content bytea NOT NULL CHECK (length(content) BETWEEN 1 AND 25000000),
    PRIMARY KEY (job_id, sha256)
);
-- Files are mostly compressed already (PDF, images, OOXML): pglz would spend CPU on
-- every insert to save little (bench/RESULTS.md "Attachments"), so TOAST keeps them
-- out of line without compressing.
ALTER TABLE job_attachments ALTER COLUMN content SET STORAGE EXTERNAL;
