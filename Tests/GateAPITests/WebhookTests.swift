import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import GateAPI

/// Outcome webhooks against a real local HTTP server standing in for the agent.
@Suite struct WebhookTests {
    static let secret = "webhook-secret-that-is-at-least-32-bytes-long"

    final class Receiver: Sendable {
        struct Delivery: Sendable {
            let headers: HTTPFields
            let body: String
            /// The Host the request named.
            let authority: String?
            let method: HTTPRequest.Method
            let path: String?
        }
        let received = NIOLockedValueBox<[Delivery]>([])
        /// Answers 503 this many times before 200.
        let failuresLeft: NIOLockedValueBox<Int>
        /// Answers every request to /hook with a 302 to this URL instead.
        let redirectTo: String?

        init(failFirst: Int, redirectTo: String? = nil) {
            failuresLeft = NIOLockedValueBox(failFirst)
            self.redirectTo = redirectTo
        }

        var application: some ApplicationProtocol {
            let router = Router()
            let record: @Sendable (Request) async throws -> Void = { request in
                let body = try await request.body.collect(upTo: 1 << 20)
                self.received.withLockedValue {
                    $0.append(
                        Delivery(
                            headers: request.headers, body: String(buffer: body), authority: request.head.authority,
                            method: request.method, path: request.head.path))
                }
            }
            router.post("/hook") { request, _ -> Response in
                try await record(request)
                if let redirectTo = self.redirectTo { return Response(status: .found, headers: [.location: redirectTo]) }
                let fail = self.failuresLeft.withLockedValue { left -> Bool in
                    defer { left = max(0, left - 1) }
                    return left > 0
                }
                return Response(status: fail ? .serviceUnavailable : .ok)
            }
            // Where a redirect points: "inside".
            router.on("/internal", method: .get) { request, _ -> Response in try await record(request); return Response(status: .ok) }
            router.on("/internal", method: .post) { request, _ -> Response in try await record(request); return Response(status: .ok) }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    static func verify(_ delivery: Receiver.Delivery) -> Bool {
        guard let header = delivery.headers[HTTPField.Name("GateAPI-Signature")!] else { return false }
        let parts = Dictionary(uniqueKeysWithValues: header.split(separator: ",").map {
            let pair = $0.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        })
        guard let t = parts["t"], let v1 = parts["v1"] else { return false }
        let expected = HMAC<SHA256>.authenticationCode(for: Data("\(t).\(delivery.body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return v1 == expected.map { String(format: "%02x", $0) }.joined()
    }

    @Test func aDecisionIsDeliveredSignedAndRetriedAfterA503() async throws {
        let receiver = Receiver(failFirst: 1)
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            try await AuthFixture.with(environment: [
                "WEBHOOK_SECRET": Self.secret, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "WEBHOOK_RETRY_BASE_MS": "100",
            ]) { fixture, client in
                try await fixture.allowBothActions(client)
                let body = #"{"action":"gmail.send","params":{"to":["ann@example.com"],"subject":"s","text":"t"},"callback_url":"http://127.0.0.1:\#(port)/hook"}"#
                let job = try await fixture.submit(client, key: "hooked", body: body)
                #expect(job.status == .created)
                let jobID = try #require(job.json["id"] as? String)
                let approvalID = try await fixture.db.withClient { db in
                    let rows = try await db.query("SELECT id FROM approvals WHERE job_id = \(jobID)")
                    for try await (id) in rows.decode(String.self) { return id }
                    return ""
                }
                _ = try await fixture.decide(client, "reject", approvalID, as: try await fixture.reviewer("alice"), body: #"{"reason":"too late in the day"}"#)
                let deadline = ContinuousClock.now + .seconds(10)
                while receiver.received.withLockedValue({ $0.count }) < 2, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                let deliveries = receiver.received.withLockedValue { $0 }
                #expect(deliveries.count == 2)
                for delivery in deliveries {
                    #expect(Self.verify(delivery))
                    #expect(delivery.headers[HTTPField.Name("GateAPI-Event")!] == "job.status_changed")
                }
                let payload = try JSONSerialization.jsonObject(with: Data(deliveries.last!.body.utf8)) as? [String: Any]
                let sent = payload?["job"] as? [String: Any]
                #expect(sent?["id"] as? String == jobID)
                #expect(sent?["status"] as? String == "rejected")
                #expect(sent?["previous_status"] as? String == "pending_approval")
                #expect(sent?["status_reason"] as? String == "too late in the day")
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await fixture.count("SELECT count(*)::int FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 2") == 1)
            }
        }
    }

    @Test func privateDestinationsAreRefusedUnlessAllowed() async throws {
        let receiver = Receiver(failFirst: 0)
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            try await AuthFixture.with(environment: ["WEBHOOK_SECRET": Self.secret]) { fixture, client in
                try await fixture.allowBothActions(client)
                let body = #"{"action":"gmail.send","params":{"to":["ann@example.com"],"subject":"s","text":"t"},"callback_url":"http://127.0.0.1:\#(port)/hook"}"#
                let jobID = try #require(try await fixture.submit(client, key: "ssrf", body: body).json["id"] as? String)
                let cancel = try await client.execute(uri: "/v1/workspaces/acme/jobs/\(jobID)/cancel", method: .post, headers: bearer(fixture.adminKey))
                #expect(cancel.status == .ok)
                let deadline = ContinuousClock.now + .seconds(5)
                while try await fixture.count("SELECT count(*)::int FROM webhook_deliveries WHERE status = 'failed'") == 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(try await fixture.count("SELECT count(*)::int FROM webhook_deliveries WHERE status = 'failed' AND last_error LIKE '%not a public%'") == 1)
                #expect(receiver.received.withLockedValue { $0.isEmpty })
            }
        }
    }

    @Test func callbacksNeedAWebhookSecret() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let body = #"{"action":"task.create","params":{"title":"x"},"callback_url":"https://agent.example.com/hook"}"#
            let response = try await fixture.submit(client, key: "no-secret", body: body)
            #expect(response.status == .unprocessableContent)
        }
    }

    @Test func deliverySettingsHaveDefaultsAndRanges() throws {
        let minimal = ["DATABASE_URL": "postgres://gate@127.0.0.1:5432/gateapi"]
        let webhooks = try AppConfig.load(from: minimal).webhooks
        #expect(webhooks.legacySignature && webhooks.timeout == .seconds(10))
        #expect(webhooks.concurrency == 16 && webhooks.concurrencyPerWorkspace == 4)
        for (variable, value) in [
            ("WEBHOOK_TIMEOUT_SECONDS", "0"), ("WEBHOOK_TIMEOUT_SECONDS", "121"), ("WEBHOOK_CONCURRENCY", "0"),
            ("WEBHOOK_CONCURRENCY_PER_WORKSPACE", "many"), ("WEBHOOK_LEGACY_SIGNATURE", "maybe"),
        ] {
            #expect(throws: ConfigError.self, "\(variable)=\(value)") {
                try AppConfig.load(from: minimal.merging([variable: value]) { $1 })
            }
            do {
                _ = try AppConfig.load(from: minimal.merging([variable: value]) { $1 })
            } catch {
                #expect(error.variable == variable)
            }
        }
    }
}
