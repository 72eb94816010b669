import Synchronization

/// Serves the calls that arrive while earlier ones are being served together: one
/// `serve` of a batch instead of one per call. For work whose cost is mostly per call
/// and hardly per item, such as a Postgres statement (bench/RESULTS.md "Twelfth round").
///
/// Nothing waits for a batch to fill: a call is served at once while fewer than
/// `maxInFlight` batches are out, and otherwise joins the next batch, which leaves as
/// soon as one of those returns. So a lone call pays nothing, and under load the
/// batches grow with the queue.
public final class Batcher<Input: Sendable, Output: Sendable>: Sendable {
    /// One result per input, in the inputs' order.
    public typealias Serve = @Sendable ([Input]) async -> [Result<Output, any Error>]

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
    private let state = Mutex(State())

    public init(maxInFlight: Int, maxBatch: Int, serve: @escaping Serve) {
        precondition(maxInFlight >= 1 && maxBatch >= 1)
        self.maxInFlight = maxInFlight
        self.maxBatch = maxBatch
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

    /// Serves `first`, then the batches that gathered meanwhile, until none is waiting.
    private func serve(from first: [Waiting]) async {
        var batch = first
        while !batch.isEmpty {
            let results = await serve(batch.map(\.input))
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
