import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A redis-server of one test's own, for what must not disturb the shared one:
/// stopping and restarting it, TLS, passwords. scripts/test kills any left behind
/// through its pidfile (`ChildProcess`).
final class RedisServerProcess: Sendable {
    let port: Int
    private let directory: String
    private let extraArguments: [String]
    private let child = NIOLockedValueBox<ChildProcess?>(nil)

    /// Starts on a free port; if another program takes that port between the probe
    /// and redis-server's bind, tries another one.
    init(extraArguments: [String] = []) async throws {
        self.extraArguments = extraArguments
        var attempt = 0
        while true {
            attempt += 1
            let port = try TestEnvironment.freePort()
            let directory = "\(TestEnvironment.serversDirectory)/redis-\(port)"
            do {
                let process = try await Self.launch(port: port, directory: directory, extraArguments: extraArguments)
                self.port = port
                self.directory = directory
                child.withLockedValue { $0 = process }
                return
            } catch is RedisServerDidNotStart where attempt < 5 {
                continue
            }
        }
    }

    var url: String { "redis://127.0.0.1:\(port)" }

    /// Starts it again on the same port, after `stop()`.
    func start() async throws {
        let process = try await Self.launch(port: port, directory: directory, extraArguments: extraArguments)
        child.withLockedValue { $0 = process }
    }

    private static func launch(port: Int, directory: String, extraArguments: [String]) async throws -> ChildProcess {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // With TLS arguments the plain port is 0 and the TLS port is ours.
        let portArguments = extraArguments.contains("--tls-port") ? [] : ["--port", String(port)]
        let process = try ChildProcess(
            ["redis-server"] + portArguments + [
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", directory, "--logfile", "\(directory)/redis.log",
            ] + extraArguments.map { $0 == "{port}" ? String(port) : $0 })
        let log = "\(directory)/redis.log"
        do {
            try await waitUntilListening(port: port)
        } catch {
            await process.stop()
            throw RedisServerDidNotStart(port: port, log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }
        // Listening, but is it ours? A server that could not bind has exited.
        guard process.isRunning else {
            throw RedisServerDidNotStart(port: port, log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }
        return process
    }

    func stop() async {
        guard let process = child.withLockedValue({ $0 }) else { return }
        await process.stop()
        child.withLockedValue { $0 = nil }
    }

    private static func waitUntilListening(port: Int) async throws {
        for _ in 0..<200 {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw RedisServerDidNotStart(port: port, log: "")
    }
}

/// The server's own log says why (port in use, bad TLS file, ...).
struct RedisServerDidNotStart: Error {
    let port: Int
    let log: String
}
