import Actions
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI

/// A job that may already have reached Gmail is never sent blindly again (issue 22 §4):
/// not after a retry, a lease recovery or an admin's requeue, which restarts the attempt
/// count; and when Gmail cannot be asked, only an admin's confirmation sends it again.
extension GmailExecutionTests {
    func requeue(_ client: any TestClientProtocol, _ fixture: AuthFixture, _ id: String, query: String = "") async throws
        -> TestResponse
    {
        try await client.execute(
            uri: "/v1/workspaces/acme/dead-letters/\(id)/requeue\(query)", method: .post, headers: bearer(fixture.adminKey))
    }

    func deliveryStarted(_ fixture: AuthFixture, _ id: String) async throws -> Bool {
        try await fixture.count("SELECT count(*)::int FROM jobs WHERE id = '\(id)' AND delivery_started_at IS NOT NULL") == 1
    }

    @Test(arguments: ["503 after delivery", "timeout after delivery"])
    func aMessageGmailAcceptedIsNotSentAgainAfterARequeue(_ failure: String) async throws {
        var environment = ["ACTION_MAX_ATTEMPTS": "1"]
        if failure.hasPrefix("timeout") { environment["ACTION_TIMEOUT_SECONDS"] = "1" }
        try await withGmail(environment: environment) { fixture, client, google in
            google.enqueueSendResponses([
                failure.hasPrefix("503")
                    ? .acceptedThen(.gmailError(503, reason: "backendError")) : .delayed(.milliseconds(1500), .normal)
            ])
            let id = try await approve(client, fixture, body: emailBody)
            let dead = try await fixture.waitForJob(client, id) { $0 == "dead" }
            #expect(dead["status_code"] as? String == (failure.hasPrefix("503") ? "gmail_unavailable" : "timeout"))
            #expect(try await eventually { google.sentMessages.count == 1 })
            #expect(try await deliveryStarted(fixture, id))

            let requeued = try await requeue(client, fixture, id)
            #expect(requeued.status == .ok)
            #expect(requeued.json["attempts"] as? Int == 0)
            let job = try await fixture.waitForJob(client, id) { $0 == "succeeded" }
            let result = try #require(job["result"] as? [String: Any])
            #expect(result["already_sent"] as? Bool == true)
            #expect(result["message_id"] as? String == google.sentMessages.first?.id)
            // Exactly one message: the run after the requeue asked Gmail and found it.
            #expect(google.sentMessages.count == 1 && google.sendRequests.count == 1)
            #expect(google.listRequests.count == 1)
        }
    }

    @Test func aFirstAttemptThatNeverSentNeedsNoSearch() async throws {
        try await withGmail(environment: ["ACTION_MAX_ATTEMPTS": "1"]) { fixture, client, google in
            // The token exchange fails: the attempt dies before any send leaves.
            google.enqueueTokenResponses([.oauthError(503, "backend_error")])
            let id = try await approve(client, fixture, body: emailBody)
            _ = try await fixture.waitForJob(client, id) { $0 == "dead" }
            #expect(try await !deliveryStarted(fixture, id))
            #expect(try await requeue(client, fixture, id).status == .ok)
            _ = try await fixture.waitForJob(client, id) { $0 == "succeeded" }
            #expect(google.sentMessages.count == 1 && google.listRequests.isEmpty)
        }
    }

    @Test func aDeliveryGmailCannotConfirmIsParkedUntilAnAdminConfirmsAResend() async throws {
        try await withGmail(environment: ["ACTION_MAX_ATTEMPTS": "3"]) { fixture, client, google in
            // Delivered, answered 503; the retry's search is refused (no read scope).
            google.enqueueSendResponses([.acceptedThen(.gmailError(503, reason: "backendError"))])
            google.enqueueListResponses([.gmailError(403, reason: "insufficientPermissions", message: "Insufficient Permission")])
            let id = try await approve(client, fixture, body: emailBody)
            let parked = try await fixture.waitForJob(client, id) { $0 == "dead" || $0 == "failed" }
            #expect(parked["status"] as? String == "dead")
            #expect(parked["status_code"] as? String == "delivery_unknown")
            #expect(parked["attempts"] as? Int == 2)
            #expect(google.sentMessages.count == 1 && google.sendRequests.count == 1)

            // A plain requeue is refused, and the refusal audited.
            let refused = try await requeue(client, fixture, id)
            #expect(refused.status == .conflict)
            #expect((refused.json["detail"] as? String)?.contains("confirm_resend=true") == true)
            #expect(try await fixture.auditRows(action: "job.requeue_refused").map(\.2) == ["resend_not_confirmed"])
            #expect(try await requeue(client, fixture, id, query: "?confirm_resend=maybe").status == .badRequest)
            #expect(try await fixture.job(client, id)["status"] as? String == "dead")

            // Confirmed: sent again without a search, and the confirmation is audited.
            let confirmed = try await requeue(client, fixture, id, query: "?confirm_resend=true")
            #expect(confirmed.status == .ok)
            _ = try await fixture.waitForJob(client, id) { $0 == "succeeded" }
            #expect(google.sentMessages.count == 2 && google.listRequests.count == 1)
            #expect(try await fixture.count(
                "SELECT count(*)::int FROM audit_events WHERE action = 'job.requeued' AND target_id = '\(id)' AND details->>'resend_confirmed' = 'true'") == 1)
        }
    }
}
