import Foundation
import Gate
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI
@testable import Persistence

/// Gmail's per-user quota (docs/gmail.md "Rate limits"): a 429 for one workspace's
/// credential makes that workspace's other sends wait; another workspace's go on.
@Suite struct GmailPacingTests {
    func email(_ n: Int) -> String {
        #"{"action":"gmail.send","params":{"to":["ann@example.com"],"subject":"Report \#(n)","text":"Attached."}}"#
    }

    /// gmail.send runs without approval in `workspace`, with refresh-token credentials.
    func prepare(_ workspace: String, as credential: String, _ client: any TestClientProtocol, _ google: FakeGoogle) async throws {
        for (path, body) in [
            ("policies/gmail.send", #"{"approval":"auto"}"#),
            ("gmail-credentials",
             #"{"type":"refresh_token","refresh_token":"\#(google.refreshToken)","client_id":"\#(google.clientID)","client_secret":"\#(google.clientSecret)"}"#),
        ] {
            let response = try await client.execute(
                uri: "/v1/workspaces/\(workspace)/\(path)", method: .put, headers: bearer(credential), body: ByteBuffer(string: body))
            try #require(response.status == .ok, "\(path): \(String(buffer: response.body))")
        }
    }

    @Test func aRateLimitedWorkspaceWaitsWhileAnotherSends() async throws {
        let google = try await FakeGoogle.start()
        do {
            try await rateLimitedWorkspace(google)
        } catch {
            await google.stop()
            throw error
        }
        await google.stop()
    }

    func rateLimitedWorkspace(_ google: FakeGoogle) async throws {
        let gmail = [
            "SECRETS_KEY": GmailExecutionTests.secretsKey, "GMAIL_API_BASE_URL": google.gmailBaseURL,
            "GOOGLE_TOKEN_URL": google.tokenURL,
        ]
        var serving = gmail
        serving["EXECUTOR_CONCURRENCY"] = "0"
        try await AuthFixture.with(environment: serving) { fixture, client in
            let olga = try await fixture.identity.token(
                TestIdentity.claims(sub: "olga", ws: ["other": ["jobs:write", "jobs:read", "policies:admin"]]))
            try await prepare("acme", as: fixture.adminKey, client, google)
            try await prepare("other", as: olga, client, google)
            var acme: [String] = []
            for n in 1...3 {
                let submitted = try await fixture.submit(client, key: "a\(n)", body: email(n))
                acme.append(try #require(submitted.json["id"] as? String))
            }
            let submitted = try await fixture.submit(client, key: "b1", body: email(9), workspace: "other", credential: olga)
            let other = try #require(submitted.json["id"] as? String)
            // acme's first send meets Gmail's per-user limit; everything after is accepted.
            google.enqueueSendResponses([.gmailError(429, reason: "userRateLimitExceeded", retryAfter: "40")])

            var executor = gmail
            executor["EXECUTOR_CONCURRENCY"] = "1"
            executor["ACTION_RETRY_MAX_SECONDS"] = "120"
            try await fixture.withExecutor(environment: executor) { _ in
                let done = try await eventually(within: .seconds(15)) {
                    try await fixture.count("SELECT count(*)::int FROM jobs WHERE id = '\(other)' AND status = 'succeeded'") == 1
                }
                #expect(done, "other's email was not sent")
                // Give acme's queue time to have run, had it not been held back.
                try await Task.sleep(for: .seconds(1))
                let waiting = try await fixture.count(
                    """
                    SELECT count(*)::int FROM jobs WHERE workspace_id = 'acme' AND status = 'queued'
                      AND next_attempt_at > now() + interval '30 seconds'
                    """)
                #expect(waiting == 3, "acme's emails should all wait out the Retry-After")
            }
            // One request for acme (refused), one for other: acme's other emails never reached Gmail.
            #expect(google.sendRequests.count == 2)
            #expect(google.sentMessages.map { (try? $0.message.subject) ?? "" } == ["Report 9"])
            let failed = try await fixture.auditTrail(target: acme[0])
            #expect(failed.contains("job.execution_failed"))
        }
    }
}
