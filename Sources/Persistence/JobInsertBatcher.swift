import PostgresNIO
import Synchronization

/// Writes the submissions that arrive while earlier ones are being written together:
/// one statement and one commit for the lot (`JobStore.insert(_:)` with a batch).
/// Postgres's cost of a submission is mostly per statement and per commit, not per row
/// (pgbench on the benchmark VM, the gated statement, 32 clients: 4,625 jobs/s at one
/// job per statement, 13,112/s at eight; bench/RESULTS.md "Twelfth round").
///
/// Nothing waits for a batch to fill: a submission is written at once while fewer than
/// `maxInFlight` batches are out, and otherwise joins the next batch, which leaves as
/// soon as one of those returns. So a lone request pays nothing, and under load the
/// batches grow with the queue.
public final class JobInsertBatcher: Sendable {
    private struct Waiting: Sendable {
        let ticket: UInt64
        let insert: JobInsert
        let continuation: CheckedContinuation<JobStore.InsertOutcome, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var inFlight = 0
        var lastTicket: UInt64 = 0
    }

    let store: JobStore
    let maxInFlight: Int
    let maxBatch: Int
    private let state = Mutex(State())

    /// `maxInFlight` 2: measured against 1, 3, 4, 8 and 16 (bench/RESULTS.md "Twelfth round").
    public init(store: JobStore, maxInFlight: Int = 2, maxBatch: Int = 32) {
        precondition(maxInFlight >= 1 && maxBatch >= 1)
        self.store = store
        self.maxInFlight = maxInFlight
        self.maxBatch = maxBatch
    }

    /// `JobStore.insert(_:id:actor:)`, written with whatever else is waiting. Cancelled
    /// while still waiting (the caller gave up: a timeout), the job is not written.
    public func insert(_ insert: JobInsert) async throws -> JobStore.InsertOutcome {
        let ticket = state.withLock { state in
            state.lastTicket += 1
            return state.lastTicket
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let batch = state.withLock { state -> [Waiting]? in
                    state.waiting.append(Waiting(ticket: ticket, insert: insert, continuation: continuation))
                    guard state.inFlight < maxInFlight else { return nil }
                    state.inFlight += 1
                    return take(&state)
                }
                if let batch { Task { await self.write(from: batch) } }
            }
        } onCancel: {
            let left = state.withLock { state -> Waiting? in
                guard let index = state.waiting.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return state.waiting.remove(at: index)
            }
            left?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Submissions waiting for a batch (for tests).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    private func take(_ state: inout State) -> [Waiting] {
        let batch = Array(state.waiting.prefix(maxBatch))
        state.waiting.removeFirst(batch.count)
        return batch
    }

    /// Writes `first`, then the batches that gathered meanwhile, until none is waiting.
    private func write(from first: [Waiting]) async {
        var batch = first
        while !batch.isEmpty {
            await write(batch)
            batch = state.withLock { state in
                let next = take(&state)
                if next.isEmpty { state.inFlight -= 1 }
                return next
            }
        }
    }

    private func write(_ batch: [Waiting]) async {
        do {
            let outcomes = try await store.insert(batch.map(\.insert))
            for (waiting, outcome) in zip(batch, outcomes) { waiting.continuation.resume(with: outcome) }
        } catch let error as PSQLError where error.code == .server && batch.count > 1 {
            // Postgres refused the statement, so nothing of it was written: one job's
            // refusal (its workspace deleted meanwhile) must not fail the others. One by
            // one, in the batch's order: of two jobs under one key, the first is created.
            for waiting in batch {
                do {
                    waiting.continuation.resume(returning: try await store.insert(waiting.insert))
                } catch {
                    waiting.continuation.resume(throwing: error)
                }
            }
        } catch {
            for waiting in batch { waiting.continuation.resume(throwing: error) }
        }
    }
}
