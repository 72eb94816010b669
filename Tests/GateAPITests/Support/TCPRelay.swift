import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A TCP relay to a loopback port that a test can cut: `cut()` drops every open
/// connection and refuses new ones, as an outage does; `freeze()` makes the open ones
/// silently stop carrying anything, as a half-open connection does, while new ones
/// work. In-process and on a port the kernel picks, so nothing outside the test (an
/// interpreter, a taken port) can keep it from starting.
final class TCPRelay: Sendable {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    let port: Int
    private let serving: Task<Void, Never>
    /// Connections accepted so far, and how many of the first ones are frozen.
    private let generations: NIOLockedValueBox<(accepted: Int, frozen: Int)>

    /// `observe`, when given, is asked for an observer per connection, which sees every
    /// chunk the client sends (`PostgresStatementCounter`).
    init(to targetPort: Int, observe: (@Sendable () -> @Sendable (ByteBuffer) -> Void)? = nil) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: channel) }
            }
        port = try #require(server.channel.localAddress?.port)
        let generations = NIOLockedValueBox((accepted: 0, frozen: 0))
        self.generations = generations
        serving = Task {
            // Cancelling this task ends the accept loop (closing the listening socket)
            // and every relayed pair with it.
            await withDiscardingTaskGroup { group in
                try? await server.executeThenClose { inbound in
                    for try await client in inbound {
                        let number = generations.withLockedValue { $0.accepted += 1; return $0.accepted }
                        let frozen: @Sendable () -> Bool = { [generations] in generations.withLockedValue { number <= $0.frozen } }
                        let observer = observe?()
                        group.addTask { await Self.relay(client, to: targetPort, frozen: frozen, observer: observer) }
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Every connection open now carries nothing more, in either direction, and stays open.
    func freeze() {
        generations.withLockedValue { $0.frozen = $0.accepted }
    }

    /// Returns once the listening socket and every relayed connection are closed.
    func cut() async {
        serving.cancel()
        await serving.value
    }

    private static func relay(
        _ client: Connection, to targetPort: Int, frozen: @escaping @Sendable () -> Bool, observer: (@Sendable (ByteBuffer) -> Void)?
    ) async {
        guard
            let upstream = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: targetPort, channelInitializer: { channel in
                    channel.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: channel) }
                })
        else {
            try? await client.executeThenClose { _, _ in }
            return
        }
        // Either side ending (or a cut) closes both.
        try? await client.executeThenClose { clientInbound, clientOutbound in
            try await upstream.executeThenClose { upstreamInbound, upstreamOutbound in
                await withTaskGroup(of: Void.self) { pair in
                    pair.addTask { try? await copy(clientInbound, to: upstreamOutbound, unless: frozen, observer: observer) }
                    pair.addTask { try? await copy(upstreamInbound, to: clientOutbound, unless: frozen) }
                    await pair.next()
                    pair.cancelAll()
                }
            }
        }
    }

    private static func copy(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        unless frozen: @Sendable () -> Bool, observer: (@Sendable (ByteBuffer) -> Void)? = nil
    ) async throws {
        for try await buffer in inbound where !frozen() {
            observer?(buffer)
            try await outbound.write(buffer)
        }
    }
}
