import AsyncHTTPClient
import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Testing

@testable import GateAPI
@testable import Persistence

/// Event streams and long-polls hold a task and a connection of the replica each: they
/// are capped per principal and per replica (429 + `Retry-After`), and an idle one costs
/// Postgres nothing of its own (the replica's shared re-read, `JobEventsResync`).
@Suite struct EventWaiterLimitTests {
    @Test func streamsAndLongPollsBeyondThePrincipalsOrTheReplicasCapAreRefused() async throws {
        let limits = ["EVENT_WAITERS_PER_PRINCIPAL": "2", "EVENT_WAITERS_PER_REPLICA": "3"]
        try await AuthFixture.with(environment: limits) { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, _, _) = try await fixture.pendingEmail(client)
            let bob = try await fixture.reviewer("bob", scopes: ["jobs:read"])
            let base = "http://127.0.0.1:\(try #require(client.port))/v1/workspaces/acme/jobs/\(jobID)"
            try await WaitingClient.with { http in
                let first = try await http.open(base + "/events", credential: fixture.adminKey)
                #expect(first.status == .ok)
                // A long-poll answers at its end: it is left running.
                let second = http.start(base + "?wait=30", credential: fixture.adminKey)
                try await Task.sleep(for: .seconds(1))

                // The admin key's third: a stream or a long-poll alike.
                for path in ["/events", "?wait=5"] {
                    let refused = try await http.open(base + path, credential: fixture.adminKey)
                    #expect(refused.status == .tooManyRequests, "\(path)")
                    #expect(refused.retryAfter == "5")
                    #expect(refused.contentType == "application/problem+json")
                    #expect(refused.text.contains("this credential already has 2 event streams and long-polls open"))
                }
                // A plain read is no waiter.
                let read = try await client.execute(uri: "/v1/workspaces/acme/jobs/\(jobID)?wait=0", method: .get, headers: bearer(fixture.adminKey))
                #expect(read.status == .ok)

                // Another principal has its own places, up to the replica's three.
                let bobs = try await http.open(base + "/events", credential: bob)
                #expect(bobs.status == .ok)
                let full = try await http.open(base + "/events", credential: bob)
                #expect(full.status == .tooManyRequests)
                #expect(full.text.contains("this server already holds 3 event streams and long-polls"))

                // A stream that ends gives its place back.
                first.close()
                let holder = NIOLockedValueBox<WaitingClient.Opened?>(nil)
                let cameBack = try await eventually {
                    let opened = try await http.open(base + "/events", credential: fixture.adminKey)
                    if opened.status == .ok { holder.withLockedValue { $0 = opened } }
                    return opened.status == .ok
                }
                #expect(cameBack, "the place did not come back after the stream was closed")
                second.cancel()
                bobs.close()
                holder.withLockedValue { $0?.close() }
            }
        }
    }

    /// Before, each stream and long-poll re-read its job every 2 s: a tenant holding open
    /// streams loaded Postgres in proportion. Counted on the wire, not timed: the
    /// statements a second replica (behind a counting relay) sends while twelve streams
    /// and two long-polls sit idle for 7 s.
    @Test func idleStreamsAndLongPollsSendPostgresNothingOfTheirOwn() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, _, _) = try await fixture.pendingEmail(client)
            let counter = PostgresStatementCounter()
            var url = try #require(URLComponents(string: fixture.db.url))
            let relay = try await TCPRelay(to: try #require(url.port), observe: counter.connection)
            url.port = relay.port
            var environment = fixture.identity.environment
            environment["BACKGROUND_WORKERS"] = "false"
            environment["EVENT_WAITERS_PER_PRINCIPAL"] = "20"
            // The queue sample (a statement a second in every replica) is not the waiters'.
            environment["QUEUE_SAMPLE_INTERVAL_MS"] = "60000"
            try await withTestApp(databaseURL: try #require(url.string), environment: environment) { replica in
                let base = "http://127.0.0.1:\(try #require(replica.port))/v1/workspaces/acme/jobs/\(jobID)"
                try await WaitingClient.with { http in
                    var opened: [WaitingClient.Opened] = []
                    var polls: [Task<Void, Never>] = []
                    // Spread over 2 s, so that the old per-stream re-reads would not have
                    // coincided (and been batched into one statement).
                    for index in 0..<14 {
                        if index < 12 {
                            opened.append(try await http.open(base + "/events", credential: fixture.adminKey))
                        } else {
                            polls.append(http.start(base + "?wait=30", credential: fixture.adminKey))
                        }
                        try await Task.sleep(for: .milliseconds(150))
                    }
                    #expect(opened.allSatisfy { $0.status == .ok })
                    try await Task.sleep(for: .milliseconds(500))
                    let before = counter.count
                    try await Task.sleep(for: .seconds(7))
                    let idle = counter.count - before
                    // The shared re-read (one statement every 2 s) and perhaps the listener's
                    // heartbeat; before, at least 14 × 3.
                    #expect(idle <= 6, "\(idle) statements while 14 waiters sat idle")
                    for stream in opened { stream.close() }
                    for poll in polls { poll.cancel() }
                }
            }
            await relay.cut()
        }
    }

    /// The backstop for a notification lost while the listening connection was down: a
    /// change made with triggers off (so nothing is announced) still reaches an open
    /// stream, by the replica's shared re-read.
    @Test func aChangeThatWasNeverAnnouncedStillReachesTheStream() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, _, _) = try await fixture.pendingEmail(client)
            let url = "http://127.0.0.1:\(try #require(client.port))/v1/workspaces/acme/jobs/\(jobID)/events"
            try await WaitingClient.with { http in
                let stream = try await http.open(url, credential: fixture.adminKey)
                #expect(stream.status == .ok)
                try await fixture.asSuperuser([
                    "SET session_replication_role = replica",
                    "UPDATE jobs SET updated_at = now() + interval '1 second' WHERE id = '\(jobID)'",
                ])
                let seen = try await eventually(within: .seconds(10)) { stream.text.components(separatedBy: "event: job").count - 1 >= 2 }
                #expect(seen, "the stream never saw the change: \(stream.text)")
                stream.close()
            }
        }
    }
}

/// AsyncHTTPClient with room for many open streams to one host (its default keeps 8).
struct WaitingClient: Sendable {
    let http: HTTPClient

    static func with(_ body: (WaitingClient) async throws -> Void) async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await body(WaitingClient(http: http))
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// A request whose answer may not end: its status and first chunk; `close` drops it.
    final class Opened: Sendable {
        let status: HTTPResponseStatus
        let retryAfter: String?
        let contentType: String?
        private let chunks: ReceivedChunks
        private let reader: Task<Void, Never>

        init(status: HTTPResponseStatus, retryAfter: String?, contentType: String?, chunks: ReceivedChunks, reader: Task<Void, Never>) {
            self.status = status
            self.retryAfter = retryAfter
            self.contentType = contentType
            self.chunks = chunks
            self.reader = reader
        }

        var received: [String] { chunks.value }
        var text: String { received.joined() }
        func close() { reader.cancel() }
    }

    /// A request left running (a long-poll); cancel the task to drop it.
    func start(_ url: String, credential: String) -> Task<Void, Never> {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        let http = self.http
        return Task {
            _ = try? await http.execute(request, timeout: .seconds(120)).body.collect(upTo: 1 << 20)
        }
    }

    func open(_ url: String, credential: String) async throws -> Opened {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        let chunks = ReceivedChunks()
        let (head, announce) = AsyncStream<(HTTPResponseStatus, String?, String?)>.makeStream()
        let http = self.http
        let reader = Task {
            do {
                let response = try await http.execute(request, timeout: .seconds(120))
                var announced = false
                for try await chunk in response.body {
                    chunks.append(String(buffer: chunk))
                    if !announced {
                        announced = true
                        announce.yield((response.status, response.headers.first(name: "retry-after"), response.headers.first(name: "content-type")))
                    }
                }
                if !announced {
                    announce.yield((response.status, response.headers.first(name: "retry-after"), response.headers.first(name: "content-type")))
                }
            } catch {}
            announce.finish()
        }
        for await (status, retryAfter, contentType) in head {
            return Opened(status: status, retryAfter: retryAfter, contentType: contentType, chunks: chunks, reader: reader)
        }
        reader.cancel()
        throw FixtureError("no answer from \(url)")
    }
}

/// Chunks received so far, shared between a reader task and the test.
final class ReceivedChunks: Sendable {
    private let box = NIOLockedValueBox<[String]>([])
    func append(_ text: String) { box.withLockedValue { $0.append(text) } }
    var value: [String] { box.withLockedValue { $0 } }
}
