-- Fair scheduling (issue 24): executors claim due jobs round-robin across workspaces,
-- approved jobs before automatic ones within each (ExecutionStore.claim). Both walks run
-- on this index: the distinct workspaces with runnable jobs as a loose index scan (one
-- probe per workspace, however deep its backlog), then each workspace's approved, then
-- queued, jobs in due order, a range scan that stops after the few it takes. It
-- replaces jobs_runnable (next_attempt_at alone), which served the global FIFO claim and
-- would only cost a second index entry per job.
CREATE INDEX jobs_runnable_by_workspace ON jobs (workspace_id, status, next_attempt_at)
    WHERE status IN ('approved', 'queued');
DROP INDEX jobs_runnable;
