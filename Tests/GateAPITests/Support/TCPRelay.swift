import NIOCore
import NIOPosix
import Testing

/// A TCP relay to a loopback port that a test can cut: `cut()` drops every open
/// connection and refuses new ones, as an outage does. In-process and on a port the
/// kernel picks, so nothing outside the test (an interpreter, a taken port) can keep
/// it from starting.
final class TCPRelay: Sendable {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    let port: Int
    private let serving: Task<Void, Never>

    init(to targetPort: Int) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: channel) }
            }
        port = try #require(server.channel.localAddress?.port)
        serving = Task {
            // Cancelling this task ends the accept loop (closing the listening socket)
            // and every relayed pair with it.
            await withDiscardingTaskGroup { group in
                try? await server.executeThenClose { inbound in
                    for try await client in inbound {
                        group.addTask { await Self.relay(client, to: targetPort) }
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Returns once the listening socket and every relayed connection are closed.
    func cut() async {
        serving.cancel()
        await serving.value
    }

    private static func relay(_ client: Connection, to targetPort: Int) async {
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
                    pair.addTask { try? await copy(clientInbound, to: upstreamOutbound) }
                    pair.addTask { try? await copy(upstreamInbound, to: clientOutbound) }
                    await pair.next()
                    pair.cancelAll()
                }
            }
        }
    }

    private static func copy(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws {
        for try await buffer in inbound { try await outbound.write(buffer) }
    }
}
