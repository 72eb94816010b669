import Hummingbird
import Synchronization

/// A response body cut off after `idle` without a completed write (the client stopped
/// reading, so writes wait on its full TCP window) or after `total` altogether. The
/// connection is then closed without the final chunk, so the client sees a truncated
/// transfer, and whatever the body held (an export slot) is given back. Writes wait
/// for the client, so the body runs as a child task that the deadline can cancel
/// (a blocked NIO write ends with `CancellationError` when cancelled).
struct BodyDeadlineExceeded: Error, CustomStringConvertible {
    let limit: String
    var description: String { "response body cut off: \(limit)" }
}

func writeWithDeadlines(
    idle: Duration, total: Duration, writer: inout any ResponseBodyWriter,
    _ body: @escaping @Sendable (DeadlineBodyWriter) async throws -> Void
) async throws {
    // The child task has the writer to itself while the parent waits for it, and the
    // parent takes it back (with whatever state it gained) after: never shared.
    let box = DeadlineBodyWriter(writer)
    defer { writer = box.take() }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await body(box) }
        group.addTask {
            let end = ContinuousClock.now + total
            while true {
                let now = ContinuousClock.now
                let idleEnd = box.lastProgress + idle
                if now >= end { throw BodyDeadlineExceeded(limit: "longer than \(total)") }
                if now >= idleEnd { throw BodyDeadlineExceeded(limit: "no progress for \(idle)") }
                try await Task.sleep(until: min(end, idleEnd), clock: .continuous)
            }
        }
        // The body's end, or the first deadline; the other is cancelled.
        _ = try await group.next()
        group.cancelAll()
    }
}

/// The writer handed to a body written under deadlines; records each completed write.
final class DeadlineBodyWriter: @unchecked Sendable {
    private var writer: any ResponseBodyWriter
    private let progress: Mutex<ContinuousClock.Instant>

    fileprivate init(_ writer: any ResponseBodyWriter) {
        self.writer = writer
        self.progress = Mutex(.now)
    }

    fileprivate var lastProgress: ContinuousClock.Instant { progress.withLock { $0 } }
    fileprivate func take() -> any ResponseBodyWriter { writer }

    func write(_ buffer: ByteBuffer) async throws {
        try await writer.write(buffer)
        progress.withLock { $0 = .now }
    }
}
