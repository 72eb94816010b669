import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
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

    /// A TCP relay to Postgres that the test can cut: killing it drops every open
    /// connection and refuses new ones, as an outage does.
    static let relay = """
        import socket, sys, threading
        listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", listen_port))
        server.listen(64)
        def pipe(source, sink):
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            for end in (source, sink):
                try: end.shutdown(socket.SHUT_RDWR)
                except OSError: pass
        while True:
            client, _ = server.accept()
            upstream = socket.create_connection(("127.0.0.1", target_port))
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        """

    /// Postgres gone, the executor waiting for a connection to claim jobs with: SIGTERM
    /// must still stop the replica promptly (it waited for the pool's minute before).
    @Test func sigtermStopsPromptlyWhilePostgresIsUnreachable() async throws {
        try await TestDatabase.withFresh { db in
            let target = try #require(URLComponents(string: db.url)?.port)
            let relayPort = try TestEnvironment.freePort()
            let relay = try ChildProcess(["/usr/bin/env", "python3", "-c", Self.relay, String(relayPort), String(target)])
            defer { relay.signal(SIGKILL) }
            var url = try #require(URLComponents(string: db.url))
            url.port = relayPort
            let environment = TestEnvironment.appEnvironment(
                databaseURL: try #require(url.string),
                overrides: ["EXECUTOR_CONCURRENCY": "2", "EXECUTOR_POLL_INTERVAL_MS": "50", "DATABASE_POOL_MIN_SIZE": "2"])
            var server: ReplicaTests.Replica?
            for _ in 0..<50 where server == nil {
                // The relay may still be starting.
                server = try? await ReplicaTests.start(environment: environment, name: "outage")
                if server == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let replica = try #require(server)
            relay.signal(SIGKILL)
            #expect(await relay.wait(timeout: .seconds(5)) != nil)
            try await Task.sleep(for: .milliseconds(1500))  // the executor is now waiting to claim

            let start = ContinuousClock.now
            replica.process.signal(SIGTERM)
            let status = await replica.process.wait(timeout: .seconds(30))
            #expect(status == 0, "\(replica.stderr.suffix(2000))")
            #expect(ContinuousClock.now - start < .seconds(10))
            if status == nil { await replica.process.stop() }
        }
    }
}
