import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 connection handling, with the connection's task (and so
/// every request handler on it) preferring the connection's own event loop as its
/// executor. Hummingbird runs connections on the global executor, which costs two
/// thread hand-offs per awaited round trip; on a loaded two-core machine those
/// wake-ups were the largest single item of a replay's profile.
///
/// The rule this imposes: nothing on a request path may block its thread (file reads,
/// locks held across I/O, long CPU loops without an `await`), because it would stall
/// every connection of that event loop.
struct EventLoopPinnedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// `.http1(configuration:)` with each connection pinned to its event loop.
    static func http1PinnedToEventLoop(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in
            EventLoopPinnedHTTP1Channel(base: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
