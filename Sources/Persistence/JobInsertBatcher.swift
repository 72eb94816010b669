import Gate
import GateCore
import PostgresNIO

/// Writes the submissions that arrive while earlier ones are being written together:
/// one statement and one commit for the lot (`JobStore.insert(_:)` with a batch).
/// Postgres's cost of a submission is mostly per statement, not per row: pgbench takes
/// nearly three times as many jobs a second in statements of eight as in statements of one
/// (bench/HISTORY.md "Twelfth round"). See `Batcher` for when a batch leaves.
public struct JobInsertBatcher: Sendable {
    let batcher: Batcher<JobInsert, JobStore.InsertOutcome>

    /// `maxInFlight` 2: measured against 1, 3, 4, 8 and 16 (bench/HISTORY.md "Twelfth round").
    /// `limit` bounds each batch's statements (see `Batcher`).
    public init(
        store: JobStore, maxInFlight: Int = 2, maxBatch: Int = 32,
        limit: Batcher<JobInsert, JobStore.InsertOutcome>.Limit? = nil
    ) {
        batcher = Batcher(maxInFlight: maxInFlight, maxBatch: maxBatch, limit: limit) { inserts in
            await Self.write(inserts, to: store)
        }
    }

    /// `JobStore.insert(_:)` of one job, written with whatever else is waiting.
    /// Cancelled while still waiting (the caller gave up: a timeout), it is not written.
    public func insert(_ insert: JobInsert) async throws -> JobStore.InsertOutcome {
        try await batcher.submit(insert)
    }

    /// Submissions waiting for a batch (for tests).
    var waitingCount: Int { batcher.waitingCount }

    /// One job's refusal (its workspace deleted meanwhile) must not fail the others; one
    /// by one, in the batch's order: of two jobs under one key, the first is created.
    static func write(_ inserts: [JobInsert], to store: JobStore) async -> [Result<JobStore.InsertOutcome, any Error>] {
        await writeBatch(inserts, together: { try await store.insert(inserts) }, alone: { try await store.insert($0) })
    }
}
