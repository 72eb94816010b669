import AsyncHTTPClient
import Foundation
import Gate
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// SIGTERM while clients wait on a job that nobody decides: a replica being replaced
/// must not hang until the platform kills it.
@Suite struct GracefulShutdownTests {
    @Test func sigtermEndsOpenEventStreamsAndLongPolls() async throws {
        try await TestDatabase.withFresh { db in
            let key = try await db.withClient { client in
                let actor = AuditActor(kind: .system, id: "test")
                _ = try await WorkspaceStore(client: client, logger: TestEnvironment.logger).create(
                    id: "acme", name: "acme", defaults: [DefaultPolicy(action: "task.create", approvalTimeoutSeconds: 86400)],
                    actor: actor)
                let (_, token) = try await APIKeyStore(client: client, logger: TestEnvironment.logger).create(
                    workspaceID: "acme", name: "agent", scopes: [.jobsWrite, .jobsRead], expiresAt: nil, createdBy: "test",
                    actsFor: "agent", actor: actor)
                return token.value
            }
            let server = try await ReplicaTests.start(environment: TestEnvironment.appEnvironment(databaseURL: db.url), name: "sigterm")
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                func request(_ path: String, _ method: HTTPMethod = .GET, body: String? = nil) -> HTTPClientRequest {
                    var request = HTTPClientRequest(url: server.base + path)
                    request.method = method
                    request.headers.add(name: "Authorization", value: "Bearer \(key)")
                    request.headers.add(name: "Idempotency-Key", value: "shutdown")
                    if let body { request.body = .bytes(ByteBuffer(string: body)) }
                    return request
                }
                let submitted = try await http.execute(
                    request("/v1/workspaces/acme/jobs", .POST, body: #"{"action":"task.create","params":{"title":"wait"}}"#),
                    timeout: .seconds(10))
                #expect(submitted.status == .created)
                let job = try #require(
                    try JSONSerialization.jsonObject(with: Data(buffer: try await submitted.body.collect(upTo: 1 << 20))) as? [String: Any])
                let id = try #require(job["id"] as? String)
                #expect(job["status"] as? String == "pending_approval")

                // An event stream (open until a terminal status) and a long-poll (60 s).
                let stream = try await http.execute(request("/v1/workspaces/acme/jobs/\(id)/events"), timeout: .seconds(60))
                #expect(stream.status == .ok)
                let poll = Task { try await http.execute(request("/v1/workspaces/acme/jobs/\(id)?wait=60"), timeout: .seconds(60)) }
                try await Task.sleep(for: .milliseconds(500))

                let start = ContinuousClock.now
                server.process.signal(SIGTERM)
                #expect(await server.process.wait(timeout: .seconds(15)) == 0, "\(server.stderr.suffix(2000))")
                #expect(ContinuousClock.now - start < .seconds(10))
                // Both were answered, not cut off: the long-poll with the job as it is.
                let polled = try await poll.value
                #expect(polled.status == .ok)
                let events = String(buffer: try await stream.body.collect(upTo: 1 << 20))
                #expect(events.hasPrefix("id: \(id)-"))
            } catch {
                await server.process.stop()
                try? await http.shutdown()
                throw error
            }
            await server.process.stop()
            try await http.shutdown()
        }
    }

    /// Postgres gone, the executor waiting for a connection to claim jobs with: SIGTERM
    /// must still stop the replica promptly (it waited for the pool's minute before).
    @Test func sigtermStopsPromptlyWhilePostgresIsUnreachable() async throws {
        try await TestDatabase.withFresh { db in
            var url = try #require(URLComponents(string: db.url))
            let relay = try await TCPRelay(to: try #require(url.port))
            url.port = relay.port
            let environment = TestEnvironment.appEnvironment(
                databaseURL: try #require(url.string),
                overrides: [
                    "EXECUTOR_CONCURRENCY": "2", "EXECUTOR_POLL_INTERVAL_MS": "50", "LOG_LEVEL": "info",
                ])
            let replica: ReplicaTests.Replica
            do { replica = try await ReplicaTests.start(environment: environment, name: "outage") } catch {
                await relay.cut()
                throw error
            }
            await relay.cut()
            // The outage is real (the pool's connections are gone, new ones refused)
            // before the signal, and the executor has had time to wait for a claim.
            var ready: HTTPResponseStatus?
            for _ in 0..<40 where ready != .serviceUnavailable {
                ready = try? await HTTPClient.shared.execute(HTTPClientRequest(url: replica.base + "/ready"), timeout: .seconds(5)).status
                if ready != .serviceUnavailable { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(ready == .serviceUnavailable)
            try await Task.sleep(for: .milliseconds(500))

            let start = ContinuousClock.now
            replica.process.signal(SIGTERM)
            let status = await replica.process.wait(timeout: .seconds(15))
            // When this hung (2026-11-23, 2026-12-04), the executor's claim had been sent
            // as Postgres went away and ignored its cancellation, so `withTimeout` never
            // answered and the executor never stopped; `withTimeout` now answers at its
            // deadline regardless. The log (at info: `service stopping` / `stopped` per
            // service) and a thread dump say where a replica that still hangs waits.
            let threads = status == nil ? await Self.threadDump(of: replica.process.pid) : ""
            #expect(status == 0, "\(replica.stderr.suffix(4000))\n\(threads)")
            #expect(ContinuousClock.now - start < .seconds(10))
            if status == nil { await replica.process.stop() }
        }
    }

    /// Every thread's stack of a running process, by gdb (on the CI machines; otherwise
    /// says why not): the last 24,000 characters of the dump.
    static func threadDump(of pid: pid_t) async -> String {
        let path = "\(TestEnvironment.serversDirectory)/threads-\(pid).txt"
        guard let gdb = try? ChildProcess(
            ["gdb", "-p", "\(pid)", "-batch", "-ex", "thread apply all bt 12"], stdoutPath: path, stderrPath: path)
        else { return "(gdb is not installed: no thread dump)" }
        if await gdb.wait(timeout: .seconds(90)) == nil { gdb.signal(SIGKILL) }
        let dump = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return "threads of \(pid) (\(path)):\n" + String(dump.suffix(24000))
    }

    /// The backstop of `serve`: a service that never finishes its graceful shutdown is
    /// cancelled once the timeout has passed, so the process ends.
    @Test func aServiceStuckInItsShutdownIsCancelledAfterTheTimeout() async throws {
        struct IgnoresGracefulShutdown: Service {
            func run() async throws { try await Task.sleep(for: .seconds(3600)) }
        }
        let group = ServeCommand.serviceGroup(
            running: IgnoresGracefulShutdown(), shutdownTimeout: .milliseconds(500), handlingSignals: false, logger: TestEnvironment.logger)
        let run = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        await group.triggerGracefulShutdown()
        let ended = NIOLockedValueBox(false)
        let watcher = Task {
            _ = await run.result
            ended.withLockedValue { $0 = true }
        }
        while !ended.withLockedValue({ $0 }) && ContinuousClock.now - start < .seconds(10) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let elapsed = ContinuousClock.now - start
        #expect(ended.withLockedValue { $0 }, "the group still runs 10 s after its graceful shutdown began")
        #expect(elapsed >= .milliseconds(500), "cancelled before the timeout: \(elapsed)")
        run.cancel()
        _ = await watcher.value
    }
}
