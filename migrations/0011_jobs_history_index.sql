-- The history cap (MAX_APPROVAL_HISTORY) keeps the newest terminal jobs of each
-- workspace; every replica's purge ranks them every PURGE_INTERVAL_SECONDS. Without an
-- index in that order it read every terminal job's heap row (in index order, so
-- randomly) and sorted them: at a million history rows 1.35 s and ~2 GB of page reads
-- per pass, evicting the working set from shared_buffers each minute. With this index
-- the ranking is an index-only scan of ~5,000 pages (0.5 s, no heap reads once
-- autovacuum has marked the pages all-visible, which history rows, never updated again,
-- soon are). It costs one index entry per job, written once when the job ends.
CREATE INDEX jobs_history ON jobs (workspace_id, id DESC)
    WHERE status IN ('succeeded', 'failed', 'rejected', 'expired', 'cancelled');
