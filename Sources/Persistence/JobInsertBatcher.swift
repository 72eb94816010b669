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

    static func write(_ inserts: [JobInsert], to store: JobStore) async -> [Result<JobStore.InsertOutcome, any Error>] {
        do {
            return try await store.insert(inserts)
        } catch let error as PSQLError where inserts.count > 1 && Self.refusesAValue(error) {
            // Postgres refused the statement, so nothing of it was written: one job's
            // refusal (its workspace deleted meanwhile) must not fail the others. One by
            // one, in the batch's order: of two jobs under one key, the first is created.
            var outcomes: [Result<JobStore.InsertOutcome, any Error>] = []
            for insert in inserts {
                do {
                    outcomes.append(.success(try await store.insert(insert)))
                } catch {
                    outcomes.append(.failure(error))
                }
            }
            return outcomes
        } catch {
            return inserts.map { _ in .failure(error) }
        }
    }

    /// A data exception or an integrity constraint (SQLSTATE classes 22 and 23): a value
    /// of some job, not the connection or the server, which retrying one by one would
    /// only ask again of.
    static func refusesAValue(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23")
    }
}
