import Gate
import NIOConcurrencyHelpers

/// The answers of `QueueBackpressure` as the last sample left them: asked on every
/// automatic submission, so read from memory, never from Postgres. `QueueSampler`
/// replaces them wholesale after each sample.
final class QueuePressureBoard: QueueBackpressure {
    private let refusals = NIOLockedValueBox<[String: QueueFull]>([:])

    func refusal(workspaceID: String) -> QueueFull? {
        refusals.withLockedValue { $0[workspaceID] }
    }

    func publish(_ current: [String: QueueFull]) {
        refusals.withLockedValue { $0 = current }
    }
}
