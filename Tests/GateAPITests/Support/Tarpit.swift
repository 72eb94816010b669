import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A TCP server on 127.0.0.1 that accepts connections and never answers: a receiver
/// that tarpits. `close()` ends it and every connection it holds.
final class Tarpit: Sendable {
    let port: Int
    private let server: any Channel
    private let connections: NIOLockedValueBox<[any Channel]>

    init() async throws {
        let connections = NIOLockedValueBox<[any Channel]>([])
        self.connections = connections
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                connections.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = try #require(server.localAddress?.port)
    }

    /// Connections accepted so far.
    var accepted: Int { connections.withLockedValue { $0.count } }

    func close() async {
        try? await server.close()
        for connection in connections.withLockedValue({ $0 }) { try? await connection.close() }
    }
}
