import Foundation
import Gate
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI

/// Per-workspace webhook secrets and Standard Webhooks signatures, checked by an
/// independent implementation: Python's hmac, written from the spec's text.
@Suite struct WebhookSigningTests {
    /// Exit 0 if every `v1,` signature in argv[4] is HMAC-SHA256 under the matching
    /// `whsec_` secret (argv[5...], in order) of "<id>.<timestamp>.<body>" (stdin).
    static let verifier = #"""
        import base64, hashlib, hmac, sys
        msg_id, timestamp, body = sys.argv[1], sys.argv[2], sys.stdin.buffer.read()
        signatures, secrets = sys.argv[4].split(" "), sys.argv[5:]
        assert len(signatures) == len(secrets) == int(sys.argv[3]), (signatures, secrets)
        for signature, secret in zip(signatures, secrets):
            key = base64.b64decode(secret.removeprefix("whsec_"))
            expected = base64.b64encode(hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256).digest()).decode()
            version, value = signature.split(",", 1)
            assert version == "v1" and hmac.compare_digest(value, expected), signature
        """#

    /// Runs the Python verifier on one received delivery.
    static func pythonVerifies(_ delivery: WebhookTests.Receiver.Delivery, secrets: [String]) throws -> Bool {
        let header = { (name: String) in delivery.headers[HTTPField.Name(name)!] ?? "" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", verifier, header("webhook-id"), header("webhook-timestamp"), String(secrets.count),
                             header("webhook-signature")] + secrets
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(delivery.body.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    struct Created: Sendable {
        let id: String
        let secret: String
    }

    static func rotate(_ fixture: AuthFixture, _ client: any TestClientProtocol, overlap: Int? = nil, credential: String? = nil) async throws -> TestResponse {
        var headers = bearer(credential ?? fixture.adminKey)
        headers[.contentType] = "application/json"
        return try await client.execute(
            uri: "/v1/workspaces/acme/webhook-secrets", method: .post, headers: headers,
            body: ByteBuffer(string: overlap.map { #"{"overlap_seconds":\#($0)}"# } ?? ""))
    }

    static func created(_ response: TestResponse) throws -> Created {
        #expect(response.status == .created)
        #expect(response.headers[.cacheControl] == "no-store")
        return Created(id: try #require(response.json["id"] as? String), secret: try #require(response.json["secret"] as? String))
    }

    /// Submits a job with a callback, cancels it, and returns the delivery its
    /// cancellation caused.
    static func cancelledJobDelivery(
        _ fixture: AuthFixture, _ client: any TestClientProtocol, _ receiver: WebhookTests.Receiver, port: Int, key: String
    ) async throws -> WebhookTests.Receiver.Delivery {
        let before = receiver.received.withLockedValue { $0.count }
        let body = #"{"action":"gmail.send","params":{"to":["ann@example.com"],"subject":"s","text":"t"},"callback_url":"http://127.0.0.1:\#(port)/hook"}"#
        let jobID = try #require(try await fixture.submit(client, key: key, body: body).json["id"] as? String)
        let cancel = try await client.execute(uri: "/v1/workspaces/acme/jobs/\(jobID)/cancel", method: .post, headers: bearer(fixture.adminKey))
        #expect(cancel.status == .ok)
        #expect(try await eventually(within: .seconds(10)) { receiver.received.withLockedValue { $0.count } > before })
        return try #require(receiver.received.withLockedValue { $0.last })
    }

    @Test func deliveriesAreSignedWithTheWorkspaceSecretsAcrossARotation() async throws {
        let receiver = WebhookTests.Receiver(failFirst: 0)
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            try await AuthFixture.with(environment: [
                "WEBHOOK_SECRET": WebhookTests.secret, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
                "SECRETS_KEY": GmailExecutionTests.secretsKey,
            ]) { fixture, client in
                try await fixture.allowBothActions(client)
                let first = try Self.created(try await Self.rotate(fixture, client))
                #expect(first.secret.hasPrefix("whsec_"))
                #expect(Data(base64Encoded: String(first.secret.dropFirst(6)))?.count == 32)

                let one = try await Self.cancelledJobDelivery(fixture, client, receiver, port: port, key: "one")
                #expect(one.headers[HTTPField.Name("webhook-id")!]?.hasPrefix("msg_") == true)
                #expect(try Self.pythonVerifies(one, secrets: [first.secret]))
                // The deprecated header is still there, and still verifies.
                #expect(WebhookTests.verify(one))
                // Another secret does not verify it.
                #expect(try !Self.pythonVerifies(one, secrets: [ManageWebhookSecrets.newSecret()]))

                // Rotation with an overlap: both sign, the new one first.
                let second = try Self.created(try await Self.rotate(fixture, client, overlap: 3600))
                let two = try await Self.cancelledJobDelivery(fixture, client, receiver, port: port, key: "two")
                #expect(try Self.pythonVerifies(two, secrets: [second.secret, first.secret]))

                // The listing shows both, never a secret.
                let list = try await client.execute(uri: "/v1/workspaces/acme/webhook-secrets", method: .get, headers: bearer(fixture.adminKey))
                #expect(list.status == .ok)
                let items = try #require(list.json["items"] as? [[String: Any]])
                #expect(items.map { $0["id"] as? String } == [second.id, first.id])
                #expect(items.allSatisfy { $0["secret"] == nil || $0["secret"] is NSNull })
                #expect(!String(buffer: list.body).contains("whsec_"))

                // Ending the overlap early: only the new one signs.
                let revoke = try await client.execute(
                    uri: "/v1/workspaces/acme/webhook-secrets/\(first.id)", method: .delete, headers: bearer(fixture.adminKey))
                #expect(revoke.status == .noContent)
                let three = try await Self.cancelledJobDelivery(fixture, client, receiver, port: port, key: "three")
                #expect(try Self.pythonVerifies(three, secrets: [second.secret]))

                // At rest the secrets are sealed; the audit rows do not hold them.
                #expect(try await fixture.count("SELECT count(*)::int FROM webhook_secrets WHERE sealed LIKE 'v1.%' AND sealed NOT LIKE '%whsec_%'") == 2)
                #expect(try await fixture.auditRows(action: "webhook_secret.rotated").count == 2)
                #expect(try await fixture.auditRows(action: "webhook_secret.revoked").count == 1)
                #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE details::text LIKE '%whsec_%'") == 0)
            }
        }
    }

    /// A rotation with no overlap stops the old secret at once; a second rotation
    /// during an overlap ends the oldest, so at most two ever sign.
    @Test func rotationKeepsAtMostTwoSigning() async throws {
        let receiver = WebhookTests.Receiver(failFirst: 0)
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            try await AuthFixture.with(environment: [
                "WEBHOOK_SECRET": WebhookTests.secret, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
                "SECRETS_KEY": GmailExecutionTests.secretsKey,
            ]) { fixture, client in
                try await fixture.allowBothActions(client)
                _ = try Self.created(try await Self.rotate(fixture, client))
                let second = try Self.created(try await Self.rotate(fixture, client, overlap: 3600))
                let third = try Self.created(try await Self.rotate(fixture, client, overlap: 3600))
                let delivery = try await Self.cancelledJobDelivery(fixture, client, receiver, port: port, key: "three-secrets")
                #expect(try Self.pythonVerifies(delivery, secrets: [third.secret, second.secret]))
                let fourth = try Self.created(try await Self.rotate(fixture, client, overlap: 0))
                let last = try await Self.cancelledJobDelivery(fixture, client, receiver, port: port, key: "no-overlap")
                #expect(try Self.pythonVerifies(last, secrets: [fourth.secret]))
            }
        }
    }

    /// Managing secrets takes `policies:admin`; without SECRETS_KEY they cannot be
    /// stored (503); a bad overlap is a 422; an unknown id a 404.
    @Test func secretAdministrationIsGuarded() async throws {
        try await AuthFixture.with(environment: ["WEBHOOK_SECRET": WebhookTests.secret]) { fixture, client in
            let unsealed = try await Self.rotate(fixture, client)
            #expect(unsealed.status == .serviceUnavailable)
            #expect(try await fixture.count("SELECT count(*)::int FROM webhook_secrets") == 0)
        }
        try await AuthFixture.with(environment: ["WEBHOOK_SECRET": WebhookTests.secret, "SECRETS_KEY": GmailExecutionTests.secretsKey]) { fixture, client in
            let reviewer = try await fixture.reviewer("rita")
            #expect(try await Self.rotate(fixture, client, credential: reviewer).status == .forbidden)
            let list = try await client.execute(uri: "/v1/workspaces/acme/webhook-secrets", method: .get, headers: bearer(reviewer))
            #expect(list.status == .forbidden)
            #expect(try await Self.rotate(fixture, client, overlap: -1).status == .unprocessableContent)
            #expect(try await Self.rotate(fixture, client, overlap: 2_592_001).status == .unprocessableContent)
            let missing = try await client.execute(
                uri: "/v1/workspaces/acme/webhook-secrets/whs_nope", method: .delete, headers: bearer(fixture.adminKey))
            #expect(missing.status == .notFound)
            #expect(try await fixture.count("SELECT count(*)::int FROM webhook_secrets") == 0)
        }
    }

    /// With the deprecated header turned off, a workspace without a secret gets
    /// nothing unsigned: the delivery waits (for an admin to add one) instead.
    @Test func nothingIsSentUnsigned() async throws {
        let receiver = WebhookTests.Receiver(failFirst: 0)
        try await receiver.application.test(.live) { agent in
            let port = try #require(agent.port)
            try await AuthFixture.with(environment: [
                "WEBHOOK_SECRET": WebhookTests.secret, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "WEBHOOK_LEGACY_SIGNATURE": "false",
                "SECRETS_KEY": GmailExecutionTests.secretsKey,
            ]) { fixture, client in
                try await fixture.allowBothActions(client)
                let body = #"{"action":"gmail.send","params":{"to":["ann@example.com"],"subject":"s","text":"t"},"callback_url":"http://127.0.0.1:\#(port)/hook"}"#
                let jobID = try #require(try await fixture.submit(client, key: "unsigned", body: body).json["id"] as? String)
                let cancel = try await client.execute(uri: "/v1/workspaces/acme/jobs/\(jobID)/cancel", method: .post, headers: bearer(fixture.adminKey))
                #expect(cancel.status == .ok)
                #expect(try await eventually {
                    try await fixture.count("SELECT count(*)::int FROM webhook_deliveries WHERE last_error = 'the workspace has no webhook secret'") > 0
                })
                #expect(receiver.received.withLockedValue { $0.isEmpty })
            }
        }
    }
}
