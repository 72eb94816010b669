import NIOConcurrencyHelpers
import Testing

@testable import GateAPI

/// `withTimeout` answers at its deadline even when the operation ignores cancellation
/// (a Postgres query sent as the server went away did: it held a replica's graceful
/// shutdown until the process was killed).
@Suite struct DependencyTimeoutTests {
    /// An operation that finishes only when told to, whatever cancellation says.
    final class Stuck: Sendable {
        private let state = NIOLockedValueBox<(released: Bool, waiter: CheckedContinuation<Int, Never>?)>((false, nil))

        func run() async -> Int {
            await withCheckedContinuation { continuation in
                let released = state.withLockedValue { state in
                    if !state.released { state.waiter = continuation }
                    return state.released
                }
                if released { continuation.resume(returning: 1) }
            }
        }

        func release() {
            state.withLockedValue { state in
                state.released = true
                return state.waiter.take()
            }?.resume(returning: 1)
        }
    }

    @Test func theResultOrErrorOfAnOperationInTimeIsTheAnswer() async throws {
        // A generous limit: in a clean-clone CI run the suite's start (every suite at once
        // on two cores) kept even `{ 42 }` from being scheduled within 5 s.
        #expect(try await withTimeout(.seconds(60), dependency: "x") { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await withTimeout(.seconds(60), dependency: "x") { throw Refused() } }
    }

    @Test func theDeadlineAnswersWhileTheOperationIgnoresCancellation() async throws {
        let stuck = Stuck()
        // Without the fix the call returns only once the operation does (here after 30 s,
        // with its value instead of the error). The time bound leaves room for a loaded
        // machine: the whole suite starting at once delayed one answer by 4 s.
        let releaser = Task { try await Task.sleep(for: .seconds(30)); stuck.release() }
        let start = ContinuousClock.now
        await #expect(throws: DependencyTimeout.self) {
            try await withTimeout(.milliseconds(100), dependency: "postgres") { await stuck.run() }
        }
        let elapsed = ContinuousClock.now - start
        releaser.cancel()
        stuck.release()
        #expect(elapsed >= .milliseconds(100))
        #expect(elapsed < .seconds(20), "answered after \(elapsed), not at the deadline")
    }

    @Test func cancellingTheCallerAnswersWhileTheOperationIgnoresCancellation() async throws {
        let stuck = Stuck()
        let releaser = Task { try await Task.sleep(for: .seconds(30)); stuck.release() }
        let caller = Task { try await withTimeout(.seconds(60), dependency: "postgres") { await stuck.run() } }
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        caller.cancel()
        let outcome = await caller.result
        let elapsed = ContinuousClock.now - start
        releaser.cancel()
        stuck.release()
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(elapsed < .seconds(20), "answered \(elapsed) after the cancellation")
    }

    @Test func aCallerCancelledBeforehandIsAnsweredAtOnceWithoutRunningTheOperation() async throws {
        let ran = NIOLockedValueBox(false)
        let caller = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await withTimeout(.seconds(60), dependency: "x") {
                ran.withLockedValue { $0 = true }
                return 1
            }
        }
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(!ran.withLockedValue { $0 })
    }
}
