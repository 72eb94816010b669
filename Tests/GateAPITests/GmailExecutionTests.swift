import Actions
import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

/// gmail.send end to end: credentials through the admin API, approval, execution
/// against a local HTTP server standing in for Gmail and Google's token endpoint.
@Suite struct GmailExecutionTests {
    static let secretsKey = Data((0..<32).map { UInt8($0 * 7 % 251) }).base64EncodedString()

    let email = #"""
        {"action":"gmail.send","params":{"to":["Zoë Ångström <zoe@example.com>","ann@example.com"],"cc":["bob@example.org"],
         "subject":"Résumé – 請求書 🚀 for Q4","text":"Hello Zoë,\nthe invoice is attached.\n","html":"<p>Hello Zoë,</p>"}}
        """#

    /// Runs `body` with a fake Google, an app whose executors use it, and refresh-token
    /// credentials stored for `acme` through the API.
    func withGmail(
        environment overrides: [String: String] = [:],
        _ body: @escaping @Sendable (AuthFixture, any TestClientProtocol, FakeGoogle) async throws -> Void
    ) async throws {
        let google = try await FakeGoogle.start()
        do {
            var environment = AuthFixture.fastExecutor
            environment["SECRETS_KEY"] = Self.secretsKey
            environment["GMAIL_API_BASE_URL"] = google.gmailBaseURL
            environment["GOOGLE_TOKEN_URL"] = google.tokenURL
            environment.merge(overrides) { $1 }
            try await AuthFixture.with(environment: environment) { fixture, client in
                try await fixture.allowBothActions(client)
                let stored = try await client.execute(
                    uri: "/v1/workspaces/acme/gmail-credentials", method: .put, headers: bearer(fixture.adminKey),
                    body: ByteBuffer(
                        string: #"{"type":"refresh_token","refresh_token":"\#(google.refreshToken)","client_id":"\#(google.clientID)","client_secret":"\#(google.clientSecret)"}"#))
                #expect(stored.status == .ok, "\(String(buffer: stored.body))")
                try await body(fixture, client, google)
            }
        } catch {
            await google.stop()
            throw error
        }
        await google.stop()
    }

    func approve(_ client: any TestClientProtocol, _ fixture: AuthFixture, body: String) async throws -> String {
        let submitted = try await fixture.submit(client, key: UUID().uuidString, body: body)
        #expect(submitted.status == .created, "\(String(buffer: submitted.body))")
        let id = try #require(submitted.json["id"] as? String)
        let vote = try await fixture.decide(
            client, "approve", try await fixture.approvalID(of: id), as: try await fixture.reviewer("rita"))
        #expect(vote.status == .ok)
        return id
    }

    @Test func anApprovedEmailIsSentOnceExactlyAsApproved() async throws {
        try await withGmail { fixture, client, google in
            let id = try await approve(client, fixture, body: email)
            let job = try await fixture.waitForJob(client, id) { $0 == "succeeded" }

            #expect(google.sendRequests.count == 1)
            let sent = try #require(google.sentMessages.first)
            let message = sent.message
            #expect(try message.addresses("To").map(\.address) == ["zoe@example.com", "ann@example.com"])
            #expect(try message.addresses("To").first?.name == "Zoë Ångström")
            #expect(try message.addresses("Cc").map(\.address) == ["bob@example.org"])
            #expect(try message.subject == "Résumé – 請求書 🚀 for Q4")
            // Line breaks travel as CRLF (RFC 5322); the words are the approved ones.
            #expect(message.text?.replacingOccurrences(of: "\r\n", with: "\n") == "Hello Zoë,\nthe invoice is attached.\n")
            #expect(message.html == "<p>Hello Zoë,</p>")
            #expect(try message.header("Message-ID") == "<\(id)@gateapi.invalid>")
            #expect(try message.header("Date") != nil)
            // The access token came from the refresh-token exchange.
            #expect(google.tokenRequests.count == 1)
            #expect(sent.accessToken == google.mintedTokens.first)

            let result = try #require(job["result"] as? [String: Any])
            #expect(result["message_id"] as? String == sent.id)
            #expect(result["already_sent"] as? Bool == false)
            #expect(try await fixture.auditTrail(target: id).suffix(2) == ["job.execution_started", "job.execution_succeeded"])
        }
    }

    @Test func credentialsAreSealedAndNeverShown() async throws {
        try await withGmail { fixture, client, google in
            let shown = try await client.execute(uri: "/v1/workspaces/acme/gmail-credentials", method: .get, headers: bearer(fixture.adminKey))
            #expect(shown.status == .ok)
            #expect(shown.json["kind"] as? String == "refresh_token")
            #expect(!String(buffer: shown.body).contains(google.clientSecret))
            let sealed = try await fixture.db.withClient { db in
                let rows = try await db.query("SELECT sealed FROM gmail_credentials WHERE workspace_id = 'acme'")
                for try await (text) in rows.decode(String.self) { return text }
                return ""
            }
            #expect(sealed.hasPrefix("v1."))
            #expect(!sealed.contains(google.refreshToken) && !sealed.contains(google.clientSecret))
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'credentials.updated' AND details::text LIKE '%fake%'") == 0)
            #expect(try await fixture.auditRows(action: "credentials.updated").count == 1)

            let bad = try await client.execute(
                uri: "/v1/workspaces/acme/gmail-credentials", method: .put, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"type":"refresh_token","refresh_token":"x"}"#))
            #expect(bad.status == .unprocessableContent)
            #expect(String(buffer: bad.body).contains("client_id"))
            let reviewer = try await fixture.reviewer("rita")
            let forbidden = try await client.execute(uri: "/v1/workspaces/acme/gmail-credentials", method: .get, headers: bearer(reviewer))
            #expect(forbidden.status == .forbidden)
            let deleted = try await client.execute(uri: "/v1/workspaces/acme/gmail-credentials", method: .delete, headers: bearer(fixture.adminKey))
            #expect(deleted.status == .noContent)
            let gone = try await client.execute(uri: "/v1/workspaces/acme/gmail-credentials", method: .get, headers: bearer(fixture.adminKey))
            #expect(gone.status == .notFound)
        }
    }

    @Test func a503IsRetriedAndTheRetryChecksBeforeSending() async throws {
        try await withGmail { fixture, client, google in
            google.enqueueSendResponses([.gmailError(503, reason: "backendError")])
            let id = try await approve(client, fixture, body: emailBody)
            let job = try await fixture.waitForJob(client, id) { $0 == "succeeded" }
            #expect(job["attempts"] as? Int == 2)
            #expect(google.sendRequests.count == 2)
            #expect(google.sentMessages.count == 1)
            // The second attempt asked Gmail whether the first had sent it after all.
            #expect(google.listRequests.count == 1)
            #expect(
                try await fixture.auditTrail(target: id).suffix(4) == [
                    "job.execution_started", "job.execution_failed", "job.execution_started", "job.execution_succeeded",
                ])
        }
    }

    @Test func a400FailsWithoutARetry() async throws {
        try await withGmail { fixture, client, google in
            google.enqueueSendResponses([.gmailError(400, reason: "invalidArgument")])
            let id = try await approve(client, fixture, body: emailBody)
            let job = try await fixture.waitForJob(client, id) { $0 == "failed" }
            #expect(job["attempts"] as? Int == 1)
            #expect((job["status_code"] as? String)?.hasPrefix("gmail_") == true)
            try await Task.sleep(for: .milliseconds(300))
            #expect(google.sendRequests.count == 1)
            #expect(google.sentMessages.isEmpty)
        }
    }

    @Test func aSendWhoseExecutorDiedBeforeRecordingItIsNotRepeated() async throws {
        try await withGmail(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client, google in
            let id = try await approve(client, fixture, body: emailBody)
            // A replica claims the job, sends the message, and dies before recording it.
            let claims = try await fixture.db.withClient { db in
                try await ExecutionStore(client: db, logger: TestEnvironment.logger).claim(
                    limit: 1, leaseSeconds: 1, executor: "executor@crashed")
            }
            #expect(claims.map(\.job.id) == [id])
            let messageID = google.seedSentMessage(messageID: GmailSender.messageID(jobID: id))

            try await fixture.withExecutor(environment: [
                "SECRETS_KEY": Self.secretsKey, "GMAIL_API_BASE_URL": google.gmailBaseURL, "GOOGLE_TOKEN_URL": google.tokenURL,
            ]) { _ in
                let job = try await fixture.waitForJob(client, id) { $0 == "succeeded" }
                #expect(job["attempts"] as? Int == 2)
                let result = try #require(job["result"] as? [String: Any])
                #expect(result["already_sent"] as? Bool == true)
                #expect(result["message_id"] as? String == messageID)
            }
            #expect(google.sendRequests.isEmpty)
            #expect(google.sentMessages.count == 1)
        }
    }

    @Test func policyConstraintsAreCheckedAgainAtExecution() async throws {
        try await withGmail(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client, google in
            let id = try await approve(client, fixture, body: emailBody)
            // After the approval, the admin narrows the allowed recipient domains.
            let narrowed = try await client.execute(
                uri: "/v1/workspaces/acme/policies/gmail.send", method: .put, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"approval":"required","constraints":{"allowed_recipient_domains":["acme.test"]}}"#))
            #expect(narrowed.status == .ok)
            try await fixture.withExecutor(environment: [
                "SECRETS_KEY": Self.secretsKey, "GMAIL_API_BASE_URL": google.gmailBaseURL, "GOOGLE_TOKEN_URL": google.tokenURL,
            ]) { _ in
                let job = try await fixture.waitForJob(client, id) { $0 == "failed" }
                #expect(job["status_code"] as? String == "constraint_violated")
            }
            #expect(google.requests.isEmpty)
        }
    }

    @Test func unreadableConstraintsStopExecution() async throws {
        try await withGmail(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client, google in
            let id = try await approve(client, fixture, body: emailBody)
            // After the approval, the constraints are changed by hand into something invalid.
            _ = try await fixture.count(
                "WITH u AS (UPDATE policies SET constraints = '{\"allowed_recipient_domains\": \"example.com\"}' WHERE action = 'gmail.send' RETURNING 1) SELECT count(*)::int FROM u")
            try await fixture.withExecutor(environment: [
                "SECRETS_KEY": Self.secretsKey, "GMAIL_API_BASE_URL": google.gmailBaseURL, "GOOGLE_TOKEN_URL": google.tokenURL,
            ]) { _ in
                let job = try await fixture.waitForJob(client, id) { $0 == "failed" }
                #expect(job["status_code"] as? String == "constraint_violated")
                #expect((job["status_reason"] as? String)?.contains("cannot be read") == true)
            }
            #expect(google.requests.isEmpty)
        }
    }

    @Test func withoutSecretsKeyCredentialsCannotBeStored() async throws {
        try await AuthFixture.with { fixture, client in
            let refused = try await client.execute(
                uri: "/v1/workspaces/acme/gmail-credentials", method: .put, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"type":"access_token","access_token":"ya29.token"}"#))
            #expect(refused.status == .serviceUnavailable)
            #expect(String(buffer: refused.body).contains("SECRETS_KEY"))
            #expect(try await fixture.count("SELECT count(*)::int FROM gmail_credentials") == 0)
        }
    }
}
