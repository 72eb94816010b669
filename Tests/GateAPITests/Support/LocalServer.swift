import Hummingbird
import Logging
import ServiceLifecycle

/// A router served on 127.0.0.1 at a free port: the stand-ins of third-party services
/// (`FakeGoogle`, `FakeSlack`) are real HTTP servers that GateAPI's real clients reach.
struct LocalServer: Sendable {
    struct DidNotStart: Error {}

    let port: Int
    private let task: Task<Void, Never>
    private let services: ServiceGroup

    static func start(_ router: Router<BasicRequestContext>, name: String) async throws -> LocalServer {
        var logger = Logger(label: name)
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: name),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        // Stopped by a graceful shutdown, never by cancelling its task: a connection the
        // server accepted but had not yet handed to its task when that task was cancelled
        // traps NIO in debug builds (swift-nio #3481; it crashed the suite twice).
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            try? await services.run()
            continuation.finish()
        }
        var port = 0
        for await bound in ports {
            port = bound
            break
        }
        guard port > 0 else {
            await services.triggerGracefulShutdown()
            await task.value
            throw DidNotStart()
        }
        return LocalServer(port: port, task: task, services: services)
    }

    func stop() async {
        await services.triggerGracefulShutdown()
        await task.value
    }
}
