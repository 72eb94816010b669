import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI

/// The console's record pages: a job's timeline, the audit search, its export and the
/// chain check — the API's reads and export, with the session as credential.
@Suite struct ConsoleRecordsTests {
    @Test func aJobsPageShowsItsTimelineFromTheAuditLog() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, approvalID, hash) = try await fixture.pendingEmail(client)
            let rita = try await fixture.consoleBrowser(client)
            _ = try await rita.post(client, "/console/w/acme/approvals/\(approvalID)/reject", [("payload_hash", hash), ("reason", "Not yet.")])
            let page = try await rita.get(client, "/console/w/acme/jobs/\(jobID)")
            let html = String(buffer: page.body)
            #expect(page.status == .ok)
            #expect(html.contains(#"id="job-status">rejected<"#) && html.contains("Not yet."))
            for action in ["job.submitted", "approval.requested", "approval.rejected"] {
                #expect(html.contains("<strong>\(action)</strong>"), "\(action) in the timeline")
            }
            #expect(html.contains(#"href="/console/w/acme/approvals/\#(approvalID)""#))
            #expect(try await rita.get(client, "/console/w/acme/jobs/job_00000000000000000000000000").status == .notFound)
        }
    }

    @Test func complianceSearchesExportsAndVerifiesTheLog() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            _ = try await fixture.pendingEmail(client)
            let carol = try await fixture.consoleBrowser(client, sub: "carol", scopes: ["audit:read", "audit:export"])
            let all = String(buffer: try await carol.get(client, "/console/w/acme/audit").body)
            #expect(all.contains("job.submitted") && all.contains("console.signed_in"))
            let filtered = String(buffer: try await carol.get(client, "/console/w/acme/audit?action=job.submitted&actor=&target=&outcome=").body)
            #expect(filtered.contains("job.submitted") && !filtered.contains("<td>console.signed_in</td>"))
            #expect(try await carol.get(client, "/console/w/acme/audit?from=yesterday").status == .badRequest)

            let export = try await carol.get(client, "/console/w/acme/audit/export?format=csv")
            #expect(export.status == .ok && export.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(export.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            #expect(String(buffer: export.body).contains("job.submitted"))
            #expect(try await fixture.count("SELECT count(*) FROM audit_events WHERE action = 'audit.exported' AND actor_id = 'carol'") == 1)

            let verify = String(buffer: try await carol.get(client, "/console/w/acme/audit/verify").body)
            #expect(verify.contains(#"id="chain-result">intact<"#))

            // A reviewer without audit:read gets neither.
            let rita = try await fixture.consoleBrowser(client)
            #expect(try await rita.get(client, "/console/w/acme/audit").status == .forbidden)
            #expect(try await rita.get(client, "/console/w/acme/audit/export?format=jsonl").status == .forbidden)
            #expect(!String(buffer: try await rita.get(client, "/console/w/acme/approvals").body).contains(">Audit<"))
        }
    }
}
