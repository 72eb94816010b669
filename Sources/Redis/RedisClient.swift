import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A small pool of pipelined Redis connections. Connections are opened on first use
/// and re-opened after they drop (e.g. a Redis restart), so callers never manage them.
/// Measured on 2 cores: two pipelined connections beat eight or more.
public final class RedisClient: Sendable, Service {
    private enum SlotState {
        case idle
        case connecting(Task<RedisConnection, any Error>)
        case connected(RedisConnection)
    }

    public let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private let sslContext: NIOSSLContext?
    private let slots: [NIOLockedValueBox<SlotState>]
    private let cursor = NIOLockedValueBox(0)
    private let isShutdown = NIOLockedValueBox(false)
    private let logger: Logger

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "gateapi.redis")
    ) throws(RedisError) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        self.slots = (0..<max(1, configuration.poolSize)).map { _ in NIOLockedValueBox(.idle) }
        if configuration.useTLS {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caFile = configuration.tlsCAFile {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                } catch {
                    throw .invalidConfiguration("cannot read REDIS_TLS_CA_FILE \(caFile): \(error)")
                }
            }
            do { self.sslContext = try NIOSSLContext(configuration: tls) } catch {
                throw .invalidConfiguration("TLS: \(error)")
            }
        } else {
            self.sslContext = nil
        }
    }

    // MARK: Service

    /// Keeps the pool until graceful shutdown, then closes every connection.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    public func shutdown() async {
        isShutdown.withLockedValue { $0 = true }
        for slot in slots {
            let state = slot.withLockedValue { state in
                defer { state = .idle }
                return state
            }
            switch state {
            case .connected(let connection): await connection.close()
            case .connecting(let task): try? await task.value.close()
            case .idle: break
            }
        }
    }

    // MARK: Commands

    /// Sends one command. `RedisError.server` carries an error reply.
    public func send(_ command: [[UInt8]]) async throws(RedisError) -> RESPValue {
        try await withConnection { connection throws(RedisError) in try await connection.send(command) }
    }

    public func send(_ command: String...) async throws(RedisError) -> RESPValue {
        try await send(command.map { Array($0.utf8) })
    }

    /// Sends several commands in one round trip on one connection.
    public func pipeline(_ commands: [[String]]) async throws(RedisError) -> [RESPValue] {
        let encoded = commands.map { $0.map { Array($0.utf8) } }
        return try await withConnection { connection throws(RedisError) in try await connection.pipeline(encoded) }
    }

    // MARK: Pool

    /// Runs `body` on the next pooled connection. A connection that timed out or
    /// dropped is taken out of the pool at once, so the next call opens a fresh one
    /// instead of failing on a channel that is still closing.
    private func withConnection<T>(_ body: (RedisConnection) async throws(RedisError) -> T) async throws(RedisError) -> T {
        let (slot, connection) = try await connection()
        do {
            return try await body(connection)
        } catch {
            switch error {
            case .timeout, .unavailable, .protocolError:
                slot.withLockedValue { state in
                    if case .connected(let current) = state, current === connection { state = .idle }
                }
                await connection.close()
            case .server, .invalidConfiguration, .shutdown:
                break
            }
            throw error
        }
    }

    /// The next connection in round-robin order, opening it if needed.
    private func connection() async throws(RedisError) -> (NIOLockedValueBox<SlotState>, RedisConnection) {
        if isShutdown.withLockedValue({ $0 }) { throw .shutdown }
        let index = cursor.withLockedValue { value in
            value = (value &+ 1) % slots.count
            return value
        }
        let slot = slots[index]
        let task: Task<RedisConnection, any Error> = slot.withLockedValue { state in
            switch state {
            case .connected(let connection) where connection.isActive:
                return Task { connection }
            case .connecting(let task):
                return task
            case .idle, .connected:
                let task = Task { try await self.open() }
                state = .connecting(task)
                return task
            }
        }
        do {
            let connection = try await task.value
            slot.withLockedValue { state in
                if case .connecting(let pending) = state, pending == task { state = .connected(connection) }
            }
            return (slot, connection)
        } catch {
            slot.withLockedValue { state in
                if case .connecting(let pending) = state, pending == task { state = .idle }
            }
            throw error as? RedisError ?? .unavailable("\(error)")
        }
    }

    private func open() async throws(RedisError) -> RedisConnection {
        let config = configuration
        let sslContext = self.sslContext
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(config.connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let tls = try NIOSSLClientHandler(
                            context: sslContext,
                            serverHostname: config.host.first?.isNumber == true ? nil : config.host
                        )
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RedisChannelHandler(endpoint: config.endpointDescription))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: config.host, port: config.port).get()
        } catch {
            throw .unavailable("cannot connect to \(config.endpointDescription): \(error)")
        }
        let connection = RedisConnection(channel: channel, commandTimeout: config.commandTimeout)
        do {
            if let password = config.password {
                let credentials = [config.username, password].compactMap { $0 }
                _ = try await connection.send([Array("AUTH".utf8)] + credentials.map { Array($0.utf8) })
            }
            if config.database != 0 {
                _ = try await connection.send([Array("SELECT".utf8), Array(String(config.database).utf8)])
            }
        } catch {
            await connection.close()
            // A refused AUTH is a configuration problem, not an outage, but both stop us.
            throw error
        }
        logger.debug("redis connection opened", metadata: ["endpoint": "\(config.endpointDescription)"])
        return connection
    }
}
