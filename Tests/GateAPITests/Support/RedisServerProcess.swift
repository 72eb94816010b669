import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A redis-server of one test's own, for what must not disturb the shared one:
/// stopping and restarting it, TLS, passwords. scripts/test kills any left behind
/// through the pidfile.
final class RedisServerProcess: Sendable {
    let port: Int
    private let directory: String
    private let extraArguments: [String]
    private let child = NIOLockedValueBox<ChildProcess?>(nil)

    init(extraArguments: [String] = []) async throws {
        self.port = try TestEnvironment.freePort()
        self.directory = "\(TestEnvironment.serversDirectory)/redis-\(port)"
        self.extraArguments = extraArguments
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await start()
    }

    var url: String { "redis://127.0.0.1:\(port)" }
    private var pidFile: String { "\(TestEnvironment.serversDirectory)/redis-\(port).pid" }

    func start() async throws {
        // With TLS arguments the plain port is 0 and the TLS port is ours.
        let portArguments = extraArguments.contains("--tls-port") ? [] : ["--port", String(port)]
        let process = try ChildProcess(
            ["redis-server"] + portArguments + [
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", directory, "--logfile", "\(directory)/redis.log",
            ] + extraArguments.map { $0 == "{port}" ? String(port) : $0 })
        child.withLockedValue { $0 = process }
        try String(process.pid).write(toFile: pidFile, atomically: true, encoding: .utf8)
        try await waitUntilListening()
        // Listening, but is it ours? A server that could not bind has exited.
        guard process.isRunning else { throw RedisServerDidNotStart(port: port) }
    }

    func stop() async {
        guard let process = child.withLockedValue({ $0 }) else { return }
        await process.stop()
        child.withLockedValue { $0 = nil }
        try? FileManager.default.removeItem(atPath: pidFile)
    }

    private func waitUntilListening() async throws {
        for _ in 0..<200 {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw RedisServerDidNotStart(port: port)
    }
}

struct RedisServerDidNotStart: Error { let port: Int }
