import Gate
import GateCore

/// Reads the jobs asked for while earlier reads are out in one statement
/// (`JobStore.find(_:)` with several keys): a replay's and a job read's lookup by id
/// costs Postgres mostly per statement. See `Batcher` for when a batch leaves.
public struct JobLookupBatcher: Sendable {
    let batcher: Batcher<JobKey, JobRecord?>

    /// `limit` bounds each batch's statement (see `Batcher`).
    public init(
        store: JobStore, maxInFlight: Int = 2, maxBatch: Int = 64, limit: Batcher<JobKey, JobRecord?>.Limit? = nil
    ) {
        batcher = Batcher(maxInFlight: maxInFlight, maxBatch: maxBatch, limit: limit) { keys in
            do {
                return try await store.find(keys).map { .success($0) }
            } catch {
                return keys.map { _ in .failure(error) }
            }
        }
    }

    /// The job with this id in this workspace, or nil.
    public func find(workspaceID: String, id: String) async throws -> JobRecord? {
        try await batcher.submit(JobKey(workspaceID: workspaceID, id: id))
    }

    /// Lookups waiting for a batch (for tests).
    var waitingCount: Int { batcher.waitingCount }
}
