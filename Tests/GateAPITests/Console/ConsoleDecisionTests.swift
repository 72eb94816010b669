import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI
@testable import Persistence

/// Deciding in the console: the API's use case and rules, a CSRF token on every form,
/// refusals explained in words and audited with the person as actor.
@Suite struct ConsoleDecisionTests {
    @Test func approvingFromTheConsoleIsThePersonsAuditedVote() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, approvalID, hash) = try await fixture.pendingEmail(client)
            let rita = try await fixture.consoleBrowser(client)

            let queue = String(buffer: try await rita.get(client, "/console/w/acme/approvals").body)
            #expect(queue.contains(#"data-approval="\#(approvalID)""#))
            #expect(queue.contains("To ann@example.com — “Quarterly report”"))
            let page = try await rita.get(client, "/console/w/acme/approvals/\(approvalID)")
            let html = String(buffer: page.body)
            #expect(page.status == .ok)
            #expect(html.contains(#"name="payload_hash" value="\#(hash)""#))
            #expect(html.contains("Subject: Quarterly report"))

            let decided = try await rita.post(
                client, "/console/w/acme/approvals/\(approvalID)/approve", [("payload_hash", hash), ("comment", "looks right")])
            #expect(decided.status == .seeOther)
            #expect(decided.headers[.location] == "/console/w/acme/approvals/\(approvalID)?done=approved")
            #expect(try await fixture.job(client, jobID)["status"] as? String != "pending_approval")
            let vote = try await fixture.db.withClient { client in
                let rows = try await client.query("SELECT reviewer, comment, payload_hash_seen FROM approval_votes WHERE approval_id = \(approvalID)")
                var votes: [(String, String?, String?)] = []
                for try await row in rows.decode((String, String?, String?).self) { votes.append(row) }
                return votes
            }
            #expect(vote.count == 1 && vote[0].0 == "user:rita" && vote[0].1 == "looks right" && vote[0].2 == hash)
            let audited = try await fixture.db.count(
                "SELECT count(*) FROM audit_events WHERE action = 'approval.granted' AND actor_type = 'user' AND actor_id = 'rita'")
            #expect(audited == 1)
            let after = String(buffer: try await rita.get(client, "/console/w/acme/approvals/\(approvalID)?done=approved").body)
            #expect(after.contains("You approved this job.") && !after.contains(#"id="approve""#))
        }
    }

    @Test func aRejectionNeedsAReasonThatReachesTheJob() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, approvalID, hash) = try await fixture.pendingEmail(client)
            let rita = try await fixture.consoleBrowser(client)
            let empty = try await rita.post(
                client, "/console/w/acme/approvals/\(approvalID)/reject", [("payload_hash", hash), ("code", "other"), ("reason", "  ")])
            #expect(empty.status == .unprocessableContent)
            #expect(empty.headers[.contentType]?.hasPrefix("text/html") == true)
            let rejected = try await rita.post(
                client, "/console/w/acme/approvals/\(approvalID)/reject",
                [("payload_hash", hash), ("code", "wrong_recipient"), ("reason", "Ann left; send it to Bo.")])
            #expect(rejected.headers[.location] == "/console/w/acme/approvals/\(approvalID)?done=rejected")
            let job = try await fixture.job(client, jobID)
            #expect(job["status"] as? String == "rejected")
            #expect(job["status_reason"] as? String == "Ann left; send it to Bo.")
        }
    }

    @Test func aFormWithoutTheSessionsTokenChangesNothingAndIsAudited() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, approvalID, hash) = try await fixture.pendingEmail(client)
            let rita = try await fixture.consoleBrowser(client)
            let missing = try await rita.post(client, "/console/w/acme/approvals/\(approvalID)/approve", [("payload_hash", hash)], csrf: nil)
            #expect(missing.status == .forbidden)
            #expect(String(buffer: missing.body).contains("security token"))
            let other = try await fixture.consoleBrowser(client, sub: "sam")
            let foreign = try await rita.post(
                client, "/console/w/acme/approvals/\(approvalID)/approve", [("payload_hash", hash)], csrf: .some(other.csrf))
            #expect(foreign.status == .forbidden)
            #expect(try await fixture.job(client, jobID)["status"] as? String == "pending_approval")
            let refusals = try await fixture.auditRows(action: "console.csrf_refused")
            #expect(refusals.map(\.2) == ["csrf_missing", "csrf_mismatch"])
            #expect(refusals.allSatisfy { $0.0 == "rita" && $0.1 == "denied" })
        }
    }

    @Test func theGatesRulesHoldAndAreExplainedInWords() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            // Rita's own agent submitted this one.
            let ritasKey = try await fixture.operatorKey(scopes: [.jobsWrite, .jobsRead], actsFor: "rita")
            let own = try await fixture.pendingEmail(client, by: ritasKey.secret)
            let rita = try await fixture.consoleBrowser(client)
            let ownHash = try await fixture.db.withClient { client in
                for try await hash in try await client.query("SELECT payload_hash FROM approvals WHERE id = \(own)").decode(String.self) { return hash }
                return ""
            }
            let refusedOwn = try await rita.post(client, "/console/w/acme/approvals/\(own)/approve", [("payload_hash", ownHash)])
            #expect(refusedOwn.status == .forbidden)
            #expect(String(buffer: refusedOwn.body).contains("You cannot decide on this job"))

            let (jobID, approvalID, _) = try await fixture.pendingEmail(client)
            let tampered = try await rita.post(
                client, "/console/w/acme/approvals/\(approvalID)/approve", [("payload_hash", String(repeating: "0", count: 64))])
            #expect(tampered.status == .conflict)
            #expect(String(buffer: tampered.body).contains("What you reviewed is not what would run"))
            #expect(try await fixture.job(client, jobID)["status"] as? String == "pending_approval")
            let refusals = try await fixture.auditRows(action: "approval.vote_refused")
            #expect(refusals.map(\.2) == ["own_job", "payload_hash_mismatch"] && refusals.allSatisfy { $0.0 == "rita" })
        }
    }

    @Test func anotherWorkspaceIsNotFoundAndAMissingScopeIsForbidden() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (_, approvalID, hash) = try await fixture.pendingEmail(client)
            let reader = try await fixture.consoleBrowser(client, sub: "rex", scopes: ["approvals:read"])
            #expect(try await reader.get(client, "/console/w/other/approvals").status == .notFound)
            #expect(try await reader.get(client, "/console/w/acme/approvals/apr_00000000000000000000000000").status == .notFound)
            let page = String(buffer: try await reader.get(client, "/console/w/acme/approvals/\(approvalID)").body)
            #expect(!page.contains(#"id="approve""#), "a reader is not offered the decision forms")
            let refused = try await reader.post(client, "/console/w/acme/approvals/\(approvalID)/approve", [("payload_hash", hash)])
            #expect(refused.status == .forbidden)
            #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(try await fixture.auditRows(action: "authz.denied").contains { $0.0 == "rex" && $0.2 == "missing_scope:approvals:decide" })
            // Another method on a console path: a page, not problem+json.
            let wrongMethod = try await reader.get(client, "/console/w/acme/approvals/\(approvalID)/approve")
            #expect(wrongMethod.status == .methodNotAllowed && wrongMethod.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(wrongMethod.headers[.allow] == "POST")
        }
    }

    @Test func theEmailsHTMLIsFramedWithoutScriptsOrRemoteImages() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let body = #"{"action":"gmail.send","params":{"to":["ann@example.com"],"subject":"Hi","text":"Hi","html":"<p>Hi</p><script>alert(1)</script><img src=\"https://tracker.example/p.gif\">"}}"#
            let job = try await fixture.submit(client, key: UUID().uuidString, body: body)
            let jobID = try #require(job.json["id"] as? String)
            let approvalID = try await fixture.db.withClient { client in
                for try await id in try await client.query("SELECT id FROM approvals WHERE job_id = \(jobID)").decode(String.self) { return id }
                return ""
            }
            let rita = try await fixture.consoleBrowser(client)
            let page = String(buffer: try await rita.get(client, "/console/w/acme/approvals/\(approvalID)").body)
            #expect(page.contains(#"sandbox="""#) && page.contains("/approvals/\(approvalID)/html\""))
            #expect(!page.contains("<script>alert"), "the body appears only in the frame")
            let frame = try await rita.get(client, "/console/w/acme/approvals/\(approvalID)/html")
            let csp = try #require(frame.headers[.contentSecurityPolicy])
            #expect(csp.hasPrefix("sandbox;") && csp.contains("img-src data:;") && !csp.contains("script-src"))
            let remote = try await rita.get(client, "/console/w/acme/approvals/\(approvalID)/html?images=remote")
            #expect(remote.headers[.contentSecurityPolicy]?.contains("img-src data: https: http:") == true)
            #expect(String(buffer: frame.body) == "<p>Hi</p><script>alert(1)</script><img src=\"https://tracker.example/p.gif\">")
        }
    }

    @Test func filesAreListedDownloadableAndInlineImagesShownInTheFrame() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let job = try await fixture.submit(client, key: UUID().uuidString, body: try GmailAttachmentTests.invoice)
            let jobID = try #require(job.json["id"] as? String, "\(String(buffer: job.body))")
            let approvalID = try await fixture.approvalID(of: jobID)
            let rita = try await fixture.consoleBrowser(client)
            let page = String(buffer: try await rita.get(client, "/console/w/acme/approvals/\(approvalID)").body)
            let pdfSHA = GmailAttachmentTests.sha(GmailAttachmentTests.pdf)
            #expect(page.contains(#"<a href="/console/w/acme/approvals/\#(approvalID)/attachments/\#(pdfSHA)" download class="file-link">invoice.pdf</a>"#))
            #expect(page.contains("(inline image, cid:logo)") && page.contains("70 kB") && page.contains("Überweisungen"))
            let download = try await rita.get(client, "/console/w/acme/approvals/\(approvalID)/attachments/\(pdfSHA)")
            #expect(download.status == .ok && Data(download.body.readableBytesView) == GmailAttachmentTests.pdf)
            #expect(download.headers[.contentDisposition] == #"attachment; filename="invoice.pdf"; filename*=UTF-8''invoice.pdf"#)
            #expect(download.headers[.xContentTypeOptions] == "nosniff")
            let missing = try await rita.get(client, "/console/w/acme/approvals/\(approvalID)/attachments/\(String(repeating: "a", count: 64))")
            #expect(missing.status == .notFound)
            // The frame shows the logo as the recipient will, from the stored bytes.
            let frame = String(buffer: try await rita.get(client, "/console/w/acme/approvals/\(approvalID)/html").body)
            #expect(frame.contains(#"<img src="data:image/png;base64,\#(GmailAttachmentTests.png.base64EncodedString())" alt="ACME">"#))
            #expect(!frame.contains("cid:logo"))
        }
    }

    @Test func theQueueCountsUpToItsCap() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            for _ in 0..<3 { _ = try await fixture.pendingEmail(client) }
            let counts = try await fixture.db.withClient { client in
                let store = ApprovalStore(client: client, logger: TestEnvironment.logger)
                return (try await store.pendingCount(workspaceID: "acme", cap: 2), try await store.pendingCount(workspaceID: "acme"))
            }
            #expect(counts.0 == 3 && counts.1 == 3, "cap 2 counts 3 (more than the cap), the default cap counts all 3")
            let page = String(buffer: try await fixture.consoleBrowser(client).get(client, "/console/w/acme/approvals").body)
            #expect(page.contains(#"id="pending-count">3<"#))
        }
    }
}
