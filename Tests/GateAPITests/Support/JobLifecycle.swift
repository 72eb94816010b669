/// Test shortcuts to a job status, taken through the lifecycle's own steps: the
/// database refuses any other move (migration 0018), so a test that needs a finished
/// job moves it as the gate and the executor would.
enum JobLifecycle {
    /// The statements that move the jobs `condition` selects to `status`: a job waiting
    /// for approval is approved first for the executor's ends, and ends there otherwise.
    static func steps(to status: String, where condition: String) -> [String] {
        switch status {
        case "succeeded", "failed", "dead":
            return [
                "UPDATE jobs SET status = 'approved' WHERE (\(condition)) AND status = 'pending_approval'",
                "UPDATE jobs SET status = 'running' WHERE (\(condition)) AND status IN ('approved', 'queued')",
                "UPDATE jobs SET status = '\(status)' WHERE (\(condition)) AND status = 'running'",
            ]
        default:
            return ["UPDATE jobs SET status = '\(status)' WHERE (\(condition)) AND status = 'pending_approval'"]
        }
    }
}

extension TestDatabase {
    func moveJobs(where condition: String, to status: String) async throws {
        for step in JobLifecycle.steps(to: status, where: condition) { try await execute(step) }
    }
}
