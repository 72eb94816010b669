import NIOCore
import NIOPosix
import Synchronization

/// A dependency did not answer in time; the client gets 503, not a hung request.
struct DependencyTimeout: Error, Sendable {
    let dependency: String
}

/// Runs `operation` and returns its result, or throws `DependencyTimeout` once `limit`
/// has passed (`CancellationError` once the caller is cancelled) — then, not when the
/// operation gets round to noticing. The operation is cancelled and left to end on its
/// own: PostgresClient queues a request while it cannot connect (up to a minute), and
/// a query sent as Postgres went away was seen ignoring cancellation for good (it held
/// a replica's graceful shutdown until the process was killed). An abandoned write may
/// still commit later, as one cut off by a lost connection may; callers already treat a
/// timeout as "outcome unknown".
///
/// The deadline is an event-loop timer, not a sleeping child task: a cancelled
/// `Task.sleep` costs a child task's CPU and, on Linux, keeps its memory until the
/// original deadline — on every request, since the operation nearly always wins
/// (bench/HISTORY.md "Earlier round").
func withTimeout<T: Sendable>(
    _ limit: Duration, dependency: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await race(operation, deadline: (limit, dependency))
}

/// Runs `operation`; a cancelled caller gets `CancellationError` at once instead of
/// waiting for the operation to notice (see `withTimeout`). For work with no deadline
/// of its own that must not hold up a graceful shutdown.
func abandoningOnCancellation<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await race(operation, deadline: nil)
}

private func race<T: Sendable>(
    _ operation: @escaping @Sendable () async throws -> T, deadline: (limit: Duration, dependency: String)?
) async throws -> T {
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, deadline: deadline, operation)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()), abandoning: true)
    }
}

/// The first of the operation's outcome, the deadline (if any) and the caller's
/// cancellation answers the caller; the others are ignored.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        /// Decided before `start` (the caller was cancelled first).
        var early: Result<T, any Error>?
        var finished = false
        var work: Task<Void, Never>?
        var deadline: Scheduled<Void>?
    }

    private let state = Mutex(State())

    func start(
        _ continuation: CheckedContinuation<T, any Error>, deadline: (limit: Duration, dependency: String)?,
        _ operation: @escaping @Sendable () async throws -> T
    ) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { return continuation.resume(with: early) }

        let work = Task {
            do { self.finish(.success(try await operation()), abandoning: false) } catch { self.finish(.failure(error), abandoning: false) }
        }
        let deadline = deadline.map { limit, dependency in
            MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(limit)) {
                self.finish(.failure(DependencyTimeout(dependency: dependency)), abandoning: true)
            }
        }
        let finished = state.withLock { state in
            if !state.finished {
                state.work = work
                state.deadline = deadline
            }
            return state.finished
        }
        // Decided while the two were being set up: nothing else will stop them.
        if finished {
            work.cancel()
            deadline?.cancel()
        }
    }

    /// `abandoning`: the operation has not finished and is told to stop.
    func finish(_ outcome: Result<T, any Error>, abandoning: Bool) {
        let (continuation, work, deadline) = state.withLock { state in
            guard !state.finished else { return (nil, nil, nil) as (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Scheduled<Void>?) }
            state.finished = true
            if state.continuation == nil { state.early = outcome }
            defer { (state.continuation, state.work, state.deadline) = (nil, nil, nil) }
            return (state.continuation, state.work, state.deadline)
        }
        continuation?.resume(with: outcome)
        deadline?.cancel()
        if abandoning { work?.cancel() }
    }
}

/// A store decorator that puts each call under a Postgres time limit (the request's
/// `timeout` unless a call says otherwise): the one place front doors get theirs.
protocol PostgresTimed: Sendable {
    var timeout: Duration { get }
}

extension PostgresTimed {
    func timed<T: Sendable>(_ limit: Duration? = nil, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withTimeout(limit ?? timeout, dependency: "postgres", operation)
    }
}
