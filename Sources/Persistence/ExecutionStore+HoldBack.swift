import Foundation
import GateCore
import PostgresNIO

extension ExecutionStore {
    /// Makes the workspace's runnable jobs for `action` that are due before `delay` from
    /// now wait until then (their order among themselves kept): what a provider's rate
    /// limit on the workspace's credential asks for, so that they do not each run into
    /// it. Jobs running now are not touched. Returns how many were held back. Reads only
    /// the range of `jobs_runnable_by_workspace` that is due before then.
    public func holdBack(workspaceID: String, action: String, for delay: Duration) async throws -> Int {
        let seconds = delay.seconds
        let rows = try await client.query(
            """
            WITH held AS (
                UPDATE jobs SET next_attempt_at = now() + make_interval(secs => \(seconds))
                    -- Kept in their old order: each moves by a millionth of how far its due
                    -- time was from now (a day overdue: 0.09 s earlier than the rest).
                    + (next_attempt_at - now()) / 1000000, updated_at = now()
                WHERE workspace_id = \(workspaceID) AND status IN \(unescaped: Self.runnable) AND action = \(action)
                  AND next_attempt_at < now() + make_interval(secs => \(seconds))
                RETURNING 1
            )
            SELECT count(*)::int FROM held
            """, logger: logger)
        for try await (count) in rows.decode(Int.self) { return count }
        return 0
    }
}
