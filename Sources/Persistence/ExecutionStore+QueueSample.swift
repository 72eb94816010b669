import Foundation
import Gate
import PostgresNIO

extension ExecutionStore {
    /// Every workspace with approved or queued jobs, with its queue depth (counted up to
    /// `cap`) and how long its oldest due jobs have waited. Cost: per such workspace one
    /// probe of `jobs_runnable_by_workspace` to find it, two for the oldest due jobs, and
    /// at most `cap` index entries counted — not the whole backlog (bench/RESULTS.md
    /// "Backpressure").
    public func sampleQueues(cap: Int) async throws -> [WorkspaceQueueSample] {
        guard cap > Self.sampleCapBelowJIT else {
            return try await Self.samples(client.query(Self.sampleStatement(cap: cap), logger: logger))
        }
        return try await client.transaction(logger: logger) { connection in
            // The planner's estimate of a large capped count passes jit_above_cost, and
            // compiling costs more than the sample itself (18 of 58 ms at a cap of 110,001).
            try await connection.query("SET LOCAL jit = off", logger: logger)
            return try await Self.samples(connection.query(Self.sampleStatement(cap: cap), logger: logger))
        }
    }

    /// Up to this cap the sample's estimated cost stays well below the default
    /// jit_above_cost (about 40,000 of 100,000 at 11,001), and it runs as one statement
    /// rather than a transaction of four: it runs every second in every replica.
    static let sampleCapBelowJIT = 30_000

    private static func samples(_ rows: PostgresRowSequence) async throws -> [WorkspaceQueueSample] {
        var samples: [WorkspaceQueueSample] = []
        for try await (workspace, queued, queuedAge, approvedAge) in rows.decode((String, Int64, Double, Double).self) {
            samples.append(
                WorkspaceQueueSample(
                    workspaceID: workspace, queued: Int(queued), oldestQueuedDueSeconds: queuedAge,
                    oldestApprovedDueSeconds: approvedAge))
        }
        return samples
    }

    /// `sampleQueues`'s statement (tests read its plan).
    static func sampleStatement(cap: Int) -> PostgresQuery {
        """
            WITH RECURSIVE ready(workspace_id) AS (
                \(unescaped: Self.workspacesWithRunnableJobs)
            )
            SELECT workspace_id,
                (SELECT count(*) FROM (
                    SELECT 1 FROM jobs WHERE jobs.workspace_id = ready.workspace_id AND jobs.status = 'queued'
                    LIMIT \(cap)) capped)::int8,
                coalesce(extract(epoch FROM now() - (
                    SELECT min(next_attempt_at) FROM jobs
                    WHERE jobs.workspace_id = ready.workspace_id AND jobs.status = 'queued' AND next_attempt_at <= now())), 0)::float8,
                coalesce(extract(epoch FROM now() - (
                    SELECT min(next_attempt_at) FROM jobs
                    WHERE jobs.workspace_id = ready.workspace_id AND jobs.status = 'approved' AND next_attempt_at <= now())), 0)::float8
            FROM ready WHERE workspace_id IS NOT NULL
            """
    }
}
