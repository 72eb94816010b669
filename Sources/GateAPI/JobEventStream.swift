import Foundation
import Gate
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import Persistence
import ServiceLifecycle

/// The waiting half of `JobsController`: the event stream, and what it shares with the
/// long-poll (`get` with `?wait=`) — the cap on waiters and the wait itself.
extension JobsController {
    /// How long an event stream may stay silent before a `: keep-alive` comment.
    static let keepAliveInterval = Duration.seconds(15)

    /// An event stream's headers: not cached, and not buffered by a proxy (nginx's
    /// `X-Accel-Buffering`), so each event reaches the client when it is written.
    static let eventStreamHeaders: HTTPFields = [
        .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    /// Server-Sent Events: the job now, then each change (`event: job`), a comment
    /// every 15 s to keep proxies from closing the stream, and the end after a
    /// terminal status.
    @Sendable func stream(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        let slot = try waiterSlot(context)
        let subscription = events.subscribe(workspace: workspace, job: id)
        let first: JobRecord
        do {
            first = try await load(workspace: workspace, id: id)
        } catch {
            subscription.cancel()
            throw error
        }
        return Response(status: .ok, headers: Self.eventStreamHeaders, body: ResponseBody { writer in
            defer {
                subscription.cancel()
                withExtendedLifetime(slot) {}
            }
            // A client that goes away ends the stream, and gives its place back, at once:
            // otherwise only the next keep-alive, failing to be written, would tell.
            let gone = NIOLockedValueBox(false)
            try await request.body.consumeWithInboundCloseHandler { _ in
                try await streamChanges(
                    from: first, workspace: workspace, signal: subscription.signal, until: { gone.withLockedValue { $0 } }, to: &writer)
            } onInboundClosed: {
                gone.withLockedValue { $0 = true }
                subscription.signal.fire()
            }
            try await writer.finish(nil)
        })
    }

    private func streamChanges(
        from first: JobRecord, workspace: String, signal: JobSignal, until clientGone: () -> Bool,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        var job = first
        signal.saw(updatedAt: job.updatedAt)
        try await writer.write(Self.event(job))
        var lastWrite = ContinuousClock.now
        // A graceful shutdown (SIGTERM) ends the stream: clients reconnect to another
        // replica, and the server does not wait for a job that may stay pending for days.
        while !job.status.isTerminal, !Task.isShuttingDownGracefully, !clientGone() {
            // Woken by a notification or by the shared re-read (JobEventsResync), as the long-poll.
            let quiet = ContinuousClock.now - lastWrite
            guard await Self.waitForChange(signal, upTo: Self.keepAliveInterval - quiet) else {
                if Task.isShuttingDownGracefully { break }
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = ContinuousClock.now
                continue
            }
            guard !clientGone(), !Task.isShuttingDownGracefully else { break }
            let current: JobRecord
            do {
                current = try await load(workspace: workspace, id: job.id)
            } catch is DependencyTimeout {
                // A slow or briefly unavailable database: keep the stream. The job still
                // differs from what this stream saw, so the next re-read wakes it again.
                continue
            }
            signal.saw(updatedAt: current.updatedAt)
            if current.status != job.status || current.updatedAt != job.updatedAt {
                job = current
                try await writer.write(Self.event(job))
                lastWrite = ContinuousClock.now
            }
        }
    }

    static func event(_ job: JobRecord) throws -> ByteBuffer {
        let json = String(decoding: try JSONEncoder.api.encode(JobView(job)), as: UTF8.self)
        return ByteBuffer(string: "id: \(job.id)-\(Int(job.updatedAt.timeIntervalSince1970 * 1000))\nevent: job\ndata: \(json)\n\n")
    }

    /// Waits up to `limit` for the signal; true if it fired. A graceful shutdown fires
    /// it, so that waiters answer at once instead of at their deadline.
    static func waitForChange(_ signal: JobSignal, upTo limit: Duration) async -> Bool {
        await withGracefulShutdownHandler {
            await signal.wait(for: limit)
        } onGracefulShutdown: {
            signal.fire()
        }
    }

    /// A place among this replica's event streams and long-polls (`EVENT_WAITERS_PER_REPLICA`)
    /// and the caller's own (`EVENT_WAITERS_PER_PRINCIPAL`), or 429.
    func waiterSlot(_ context: AppRequestContext) throws -> ConcurrencyLimit.Slot {
        let principal = try context.requirePrincipal()
        return try waiters.placeOrTooManyRequests(
            key: principal.qualifiedID,
            keyFull: "this credential already has \(waiters.perKey) event streams and long-polls open; close one or retry later",
            replicaFull: "this server already holds \(waiters.limit) event streams and long-polls; retry later")
    }
}
