import Synchronization

/// Serves the calls that arrive while earlier ones are being served together: one
/// `serve` of a batch instead of one per call. For work whose cost is mostly per call
/// and hardly per item, such as a Postgres statement (bench/HISTORY.md "Twelfth round").
///
/// Nothing waits for a batch to fill: a call is served at once while fewer than
/// `maxInFlight` batches are out, and otherwise joins the next batch, which leaves as
/// soon as one of those returns. So a lone call pays nothing, and under load the
/// batches grow with the queue.
public final class Batcher<Input: Sendable, Output: Sendable>: Sendable {
    /// One result per input, in the inputs' order.
    public typealias Serve = @Sendable ([Input]) async -> [Result<Output, any Error>]
    /// Runs a batch's `serve` under a deadline: returns its results, or throws (every
    /// input of the batch then fails with that error) once the deadline has passed,
    /// even if `serve` ignores its cancellation and never returns.
    public typealias Limit = @Sendable (@escaping @Sendable () async -> [Result<Output, any Error>]) async throws
        -> [Result<Output, any Error>]

    private struct Waiting: Sendable {
        let ticket: UInt64
        let input: Input
        let continuation: CheckedContinuation<Output, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var inFlight = 0
        var lastTicket: UInt64 = 0
    }

    let maxInFlight: Int
    let maxBatch: Int
    private let serve: Serve
    private let limit: Limit?
    private let state = Mutex(State())

    /// `limit` bounds each batch: a batch whose statement never returns (PostgresNIO
    /// 1.33.2 can hand out a connection that has just closed when Postgres restarts,
    /// and a query sent on it never completes) would otherwise hold its in-flight slot
    /// for good, and once every slot was held, every later call would wait forever.
    public init(maxInFlight: Int, maxBatch: Int, limit: Limit? = nil, serve: @escaping Serve) {
        precondition(maxInFlight >= 1 && maxBatch >= 1)
        self.maxInFlight = maxInFlight
        self.maxBatch = maxBatch
        self.limit = limit
        self.serve = serve
    }

    /// `input`'s result, served with whatever else is waiting. Cancelled while still
    /// waiting (the caller gave up: a timeout), `input` is not served.
    public func submit(_ input: Input) async throws -> Output {
        try Task.checkCancellation()
        let ticket = state.withLock { state in
            state.lastTicket += 1
            return state.lastTicket
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let batch = state.withLock { state -> [Waiting]? in
                    state.waiting.append(Waiting(ticket: ticket, input: input, continuation: continuation))
                    guard state.inFlight < maxInFlight else { return nil }
                    state.inFlight += 1
                    return take(&state)
                }
                if let batch { Task { await self.serve(from: batch) } }
            }
        } onCancel: {
            let left = state.withLock { state -> Waiting? in
                guard let index = state.waiting.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return state.waiting.remove(at: index)
            }
            left?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Calls waiting for a batch.
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    private func take(_ state: inout State) -> [Waiting] {
        let batch = Array(state.waiting.prefix(maxBatch))
        state.waiting.removeFirst(batch.count)
        return batch
    }

    private func served(_ inputs: [Input]) async -> [Result<Output, any Error>] {
        guard let limit else { return await serve(inputs) }
        let serve = self.serve
        do {
            return try await limit { await serve(inputs) }
        } catch {
            return inputs.map { _ in .failure(error) }
        }
    }

    /// Serves `first`, then the batches that gathered meanwhile, until none is waiting.
    private func serve(from first: [Waiting]) async {
        var batch = first
        while !batch.isEmpty {
            let results = await served(batch.map(\.input))
            precondition(results.count == batch.count, "a batch must have one result per input")
            for (waiting, result) in zip(batch, results) { waiting.continuation.resume(with: result) }
            batch = state.withLock { state in
                let next = take(&state)
                if next.isEmpty { state.inFlight -= 1 }
                return next
            }
        }
    }
}
