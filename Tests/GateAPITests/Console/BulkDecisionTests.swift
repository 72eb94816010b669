import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI

/// `POST …/approvals/bulk` and the console's bulk decisions: one use case, the single
/// vote's rules for each approval, the skipped ones named with their reasons.
@Suite struct BulkDecisionTests {
    /// `count` pending emails; returns (approval id, payload hash) in submission order.
    func pending(_ fixture: AuthFixture, _ client: any TestClientProtocol, count: Int) async throws -> [(String, String)] {
        var approvals: [(String, String)] = []
        for _ in 0..<count {
            let (_, approvalID, hash) = try await fixture.pendingEmail(client)
            approvals.append((approvalID, hash))
        }
        return approvals
    }

    @Test func fiftyApprovedThroughTheAPIWithThreeSkipped() async throws {
        // Without the expiry sweeper: the approval made overdue below must meet the vote
        // still pending (the vote expires it on the spot, the rule under test); on a busy
        // machine the sweeper, once a second, sometimes expired it first (CI, 2026-12-07).
        let environment = ["APPROVALS_RATE_LIMIT_PER_MINUTE": "100000", "BACKGROUND_WORKERS": "false"]
        try await AuthFixture.with(environment: environment) { fixture, client in
            try await fixture.allowBothActions(client)
            let approvals = try await pending(fixture, client, count: 50)
            let ritasKey = try await fixture.operatorKey(scopes: [.jobsWrite], actsFor: "rita")
            let own = try await fixture.pendingEmail(client, by: ritasKey.secret)
            // One decided meanwhile, one expired, one of rita's own.
            let bob = try await fixture.reviewer("bob")
            #expect(try await fixture.decide(client, "reject", approvals[3].0, as: bob, body: #"{"reason":"no"}"#).status == .ok)
            try await fixture.execute("UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = '\(approvals[7].0)'")
            var items = approvals.map { #"{"id":"\#($0.0)","payload_hash":"\#($0.1)"}"# }
            items[11] = #"{"id":"\#(own)"}"#

            let rita = try await fixture.reviewer("rita")
            let answer = try await client.execute(
                uri: "/v1/workspaces/acme/approvals/bulk", method: .post, headers: bearer(rita),
                body: ByteBuffer(string: #"{"decision":"approve","comment":"batch","approvals":[\#(items.joined(separator: ","))]}"#))
            #expect(answer.status == .ok, "\(String(buffer: answer.body))")
            let decided = try #require(answer.json["decided"] as? [[String: Any]])
            let skipped = try #require(answer.json["skipped"] as? [[String: Any]])
            #expect(decided.count == 47 && decided.allSatisfy { $0["status"] as? String == "approved" })
            #expect(skipped.map { $0["id"] as? String } == [approvals[3].0, approvals[7].0, own])
            #expect(skipped.map { $0["reason"] as? String } == ["already_decided", "expired", "own_job"])
            #expect(try await fixture.count("SELECT count(*) FROM approvals WHERE status = 'approved'") == 47)
            #expect(try await fixture.count("SELECT count(*) FROM audit_events WHERE action = 'approval.granted' AND actor_id = 'rita'") == 47)
            #expect(try await fixture.auditRows(action: "approval.vote_refused").compactMap(\.2).sorted() == ["expired", "not_pending:rejected", "own_job"])
        }
    }

    @Test func aBadBulkRequestDecidesNothing() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let approvals = try await pending(fixture, client, count: 2)
            let rita = try await fixture.reviewer("rita")
            func bulk(_ body: String, as credential: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/workspaces/acme/approvals/bulk", method: .post, headers: bearer(credential), body: ByteBuffer(string: body))
            }
            let one = #"{"id":"\#(approvals[0].0)"}"#, two = #"{"id":"\#(approvals[1].0)"}"#
            #expect(try await bulk(#"{"decision":"reject","approvals":[\#(one)]}"#, as: rita).status == .unprocessableContent)
            #expect(try await bulk(#"{"decision":"approve","approvals":[]}"#, as: rita).status == .unprocessableContent)
            #expect(try await bulk(#"{"decision":"approve","approvals":[\#(one),\#(two),\#(one)]}"#, as: rita).status == .unprocessableContent)
            let tooMany = Array(repeating: one, count: 201).joined(separator: ",")
            #expect(try await bulk(#"{"decision":"approve","approvals":[\#(tooMany)]}"#, as: rita).status == .unprocessableContent)
            #expect(try await bulk(#"{"decision":"maybe","approvals":[\#(one)]}"#, as: rita).status == .unprocessableContent)
            // A key cannot vote, in bulk or not.
            #expect(try await bulk(#"{"decision":"approve","approvals":[\#(one)]}"#, as: fixture.adminKey).status == .forbidden)
            #expect(try await fixture.count("SELECT count(*) FROM approval_votes") == 0)
        }
    }

    @Test func theConsoleConfirmsThenDecidesAndListsWhatItSkipped() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let approvals = try await pending(fixture, client, count: 3)
            let rita = try await fixture.consoleBrowser(client)
            let queue = String(buffer: try await rita.get(client, "/console/w/acme/approvals").body)
            #expect(queue.contains(#"name="approval" value="\#(approvals[0].0):\#(approvals[0].1)""#))
            // A stale hash for the third: the queue showed another payload.
            let selection = [("approval", "\(approvals[0].0):\(approvals[0].1)"), ("approval", "\(approvals[1].0):\(approvals[1].1)"),
                             ("approval", "\(approvals[2].0):stale")]
            let confirm = try await rita.post(client, "/console/w/acme/approvals/bulk", selection + [("decision", "reject"), ("code", "not_needed"), ("text", "Not this week.")])
            #expect(confirm.status == .ok)
            #expect(String(buffer: confirm.body).contains("Reject 3 approvals?"))
            #expect(try await fixture.count("SELECT count(*) FROM approval_votes") == 0, "nothing is decided before the confirmation")
            let done = try await rita.post(
                client, "/console/w/acme/approvals/bulk",
                selection + [("decision", "reject"), ("code", "not_needed"), ("text", "Not this week."), ("confirm", "yes")])
            let page = String(buffer: done.body)
            #expect(done.status == .ok && page.contains("2 decided, 1 skipped"))
            #expect(page.contains("its payload changed since the queue showed it"))
            #expect(try await fixture.count("SELECT count(*) FROM approvals WHERE status = 'rejected' AND reason = 'Not this week.' AND reason_code = 'not_needed'") == 2)
            let noReason = try await rita.post(client, "/console/w/acme/approvals/bulk", [selection[2], ("decision", "reject"), ("text", " ")])
            #expect(noReason.status == .unprocessableContent)
        }
    }
}
