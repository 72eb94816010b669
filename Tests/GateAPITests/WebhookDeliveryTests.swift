import Foundation
import Gate
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Persistence
import PostgresNIO
import NIOConcurrencyHelpers
import Testing

@testable import GateAPI

/// The deliverer against real receivers on loopback and a real outbox: where the
/// connection goes, redirects, and receivers that never answer.
@Suite struct WebhookDeliveryTests {
    static func settings(allowPrivate: Bool, timeoutSeconds: Int = 5, concurrency: Int = 16, perWorkspace: Int = 4) -> WebhookSettings {
        WebhookSettings(
            secret: WebhookTests.secret, legacySignature: true, maxAttempts: 8, retryBase: .seconds(60),
            allowPrivateNetworks: allowPrivate, timeout: .seconds(timeoutSeconds), concurrency: concurrency,
            concurrencyPerWorkspace: perWorkspace)
    }

    static func deliverer(_ client: PostgresClient, _ settings: WebhookSettings, resolver: WebhookResolver = .system) -> WebhookDeliverer {
        WebhookDeliverer(
            store: WebhookStore(client: client, logger: TestEnvironment.logger), settings: settings, secrets: nil,
            resolver: resolver, interval: .milliseconds(50), logger: TestEnvironment.logger)
    }

    /// Queues a delivery as the jobs trigger does, due now (or `ageSeconds` overdue).
    static func queue(_ client: PostgresClient, workspace: String = "acme", url: String, ageSeconds: Int = 0) async throws -> Int64 {
        let rows = try await client.query(
            """
            INSERT INTO webhook_deliveries (workspace_id, job_id, url, event, payload, next_attempt_at)
            VALUES (\(workspace), 'job_1', \(url), 'job.status_changed', '{"event":"job.status_changed"}',
                    now() - make_interval(secs => \(ageSeconds)))
            RETURNING id
            """, logger: TestEnvironment.logger)
        for try await (id) in rows.decode(Int64.self) { return id }
        throw CancellationError()
    }

    static func row(_ client: PostgresClient, _ id: Int64) async throws -> (status: String, attempts: Int, error: String?) {
        let rows = try await client.query(
            "SELECT status, attempts, last_error FROM webhook_deliveries WHERE id = \(id)", logger: TestEnvironment.logger)
        for try await row in rows.decode((String, Int, String?).self) { return row }
        throw CancellationError()
    }

    /// Claims and delivers one queued row, as the deliverer's loop does.
    static func deliverNow(_ deliverer: WebhookDeliverer, _ id: Int64) async throws {
        let delivery = try #require(try await deliverer.store.claim(ids: [id], leaseSeconds: 60).first)
        await deliverer.deliver(delivery)
    }

    /// The connection goes to the address that was checked: a name only the check's
    /// resolver knows is delivered to it (an HTTP client resolving the name again
    /// would find nothing, or — DNS rebinding — somewhere else), with the name as Host.
    @Test func theConnectionGoesToTheCheckedAddress() async throws {
        let receiver = WebhookTests.Receiver(failFirst: 0)
        let lookups = LockedCounter()
        let resolver = WebhookResolver { host in
            lookups.increment()
            return host == "receiver.gateapi.invalid" ? [IPAddress("127.0.0.1")!] : []
        }
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            try await TestDatabase.withFresh { db in
                try await db.withClient { client in
                    let deliverer = Self.deliverer(client, Self.settings(allowPrivate: true), resolver: resolver)
                    let id = try await Self.queue(client, url: "http://receiver.gateapi.invalid:\(port)/hook")
                    try await Self.deliverNow(deliverer, id)
                    #expect(try await Self.row(client, id).status == "delivered")
                    let received = receiver.received.withLockedValue { $0 }
                    #expect(received.count == 1)
                    #expect(received.first?.authority == "receiver.gateapi.invalid:\(port)")
                    #expect(lookups.value == 1)
                }
            }
        }
    }

    /// A name that resolves to loopback is refused at delivery, though the URL passed
    /// the submission's check (which looks at its form only); nothing reaches the
    /// receiver and the delivery is not tried again.
    @Test func aNameResolvingInsideIsRefused() async throws {
        let receiver = WebhookTests.Receiver(failFirst: 0)
        let resolver = WebhookResolver { host in
            // Rebinding as a resolver would do it: public first, loopback next; and a
            // name with one address of each.
            host == "half.gateapi.invalid" ? [IPAddress("93.184.215.14")!, IPAddress("127.0.0.1")!] : [IPAddress("127.0.0.1")!]
        }
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            #expect(CallbackURL.isAcceptable("http://inside.gateapi.invalid:\(port)/hook"))
            try await TestDatabase.withFresh { db in
                try await db.withClient { client in
                    let deliverer = Self.deliverer(client, Self.settings(allowPrivate: false), resolver: resolver)
                    for host in ["inside.gateapi.invalid", "half.gateapi.invalid"] {
                        let id = try await Self.queue(client, url: "http://\(host):\(port)/hook")
                        try await Self.deliverNow(deliverer, id)
                        let row = try await Self.row(client, id)
                        #expect(row.status == "failed")
                        #expect(row.error?.contains("resolves to 127.0.0.1, loopback") == true, "\(row.error ?? "")")
                    }
                    // And through the system resolver.
                    let id = try await Self.queue(client, url: "http://localhost:\(port)/hook")
                    try await Self.deliverNow(Self.deliverer(client, Self.settings(allowPrivate: false)), id)
                    #expect(try await Self.row(client, id).status == "failed")
                    #expect(receiver.received.withLockedValue { $0.isEmpty })
                }
            }
        }
    }

    /// A receiver answering 302 to an address inside is not followed: the attempt
    /// failed (to be retried, at the receiver itself), and the inside got nothing.
    @Test func redirectsAreNotFollowed() async throws {
        let inside = WebhookTests.Receiver(failFirst: 0)
        try await inside.application.test(.live) { insideClient in
            let insidePort = try #require(insideClient.port)
            let receiver = WebhookTests.Receiver(failFirst: 0, redirectTo: "http://127.0.0.1:\(insidePort)/internal")
            try await receiver.application.test(.live) { agent in
                let port = try #require(agent.port)
                try await TestDatabase.withFresh { db in
                    try await db.withClient { client in
                        let deliverer = Self.deliverer(client, Self.settings(allowPrivate: true))
                        let id = try await Self.queue(client, url: "http://127.0.0.1:\(port)/hook")
                        try await Self.deliverNow(deliverer, id)
                        let row = try await Self.row(client, id)
                        #expect(row.status == "pending")
                        #expect(row.error == "HTTP 302 (redirects are not followed)")
                        #expect(receiver.received.withLockedValue { $0.count } == 1)
                        #expect(inside.received.withLockedValue { $0.isEmpty })
                    }
                }
            }
        }
    }

    /// A workspace whose receiver never answers holds at most its share of the
    /// delivery slots, each for at most the timeout; another workspace's delivery,
    /// queued after all of its, goes out at once.
    @Test func aTarpittingReceiverDoesNotDelayOtherWorkspaces() async throws {
        let tarpit = try await Tarpit()
        let receiver = WebhookTests.Receiver(failFirst: 0)
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            try await TestDatabase.withFresh { db in
                try await db.withClient { client in
                    var slow: [Int64] = []
                    for _ in 0..<30 {
                        slow.append(try await Self.queue(client, workspace: "slow", url: "http://127.0.0.1:\(tarpit.port)/hook", ageSeconds: 60))
                    }
                    let fast = try await Self.queue(client, workspace: "fast", url: "http://127.0.0.1:\(port)/hook")
                    let deliverer = Self.deliverer(
                        client, Self.settings(allowPrivate: true, timeoutSeconds: 3, concurrency: 8, perWorkspace: 2))
                    let running = Task { try await deliverer.run() }
                    defer { running.cancel() }
                    // Well within one timeout: the other workspace is not behind the tarpit.
                    #expect(try await eventually(within: .seconds(2), every: .milliseconds(50)) {
                        receiver.received.withLockedValue { $0.count } == 1
                    })
                    #expect(try await eventually { try await Self.row(client, fast).status == "delivered" })
                    // The tarpit holds two slots at a time, not all eight.
                    #expect(tarpit.accepted <= 2)
                    // And each of its attempts ends at the timeout, to be retried later.
                    #expect(try await eventually(within: .seconds(10)) {
                        try await db.count(
                            "SELECT count(*)::int FROM webhook_deliveries WHERE workspace_id = 'slow' AND last_error LIKE 'no answer within%'")
                            >= 2
                    })
                    #expect(try await db.count("SELECT count(*)::int FROM webhook_deliveries WHERE workspace_id = 'slow' AND attempts > 1") == 0)
                    running.cancel()
                    _ = await running.result
                }
            }
        }
        await tarpit.close()
    }

    /// Replicas share the outbox: two deliverers picking the same due rows at once
    /// send each delivery once (a row is claimed by whichever UPDATE gets it while due).
    @Test func twoReplicasSendEachDeliveryOnce() async throws {
        let receiver = WebhookTests.Receiver(failFirst: 0)
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            try await TestDatabase.withFresh { db in
                try await db.withClient { client in
                    for index in 0..<40 {
                        _ = try await Self.queue(client, workspace: "ws\(index % 5)", url: "http://127.0.0.1:\(port)/hook")
                    }
                    let replicas = (0..<2).map { _ in
                        Self.deliverer(client, Self.settings(allowPrivate: true, concurrency: 8, perWorkspace: 2))
                    }
                    let running = replicas.map { replica in Task { try await replica.run() } }
                    defer { running.forEach { $0.cancel() } }
                    #expect(try await eventually(within: .seconds(15)) {
                        try await db.count("SELECT count(*)::int FROM webhook_deliveries WHERE status = 'delivered'") == 40
                    })
                    #expect(receiver.received.withLockedValue { $0.count } == 40)
                    #expect(Set(receiver.received.withLockedValue { $0.compactMap { $0.headers[HTTPField.Name("webhook-id")!] } }).count == 40)
                    #expect(try await db.count("SELECT count(*)::int FROM webhook_deliveries WHERE attempts <> 1") == 0)
                    running.forEach { $0.cancel() }
                    for task in running { _ = await task.result }
                }
            }
        }
    }
}

/// A counter a @Sendable closure can bump.
final class LockedCounter: Sendable {
    private let count = NIOLockedValueBox(0)
    func increment() { count.withLockedValue { $0 += 1 } }
    var value: Int { count.withLockedValue { $0 } }
}
