import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI

/// The admin pages: policies with the change's before and after, API keys with the
/// secret shown once, dead letters requeued — the API's use cases, audited as the person.
@Suite struct ConsoleAdminTests {
    @Test func aPolicyChangeShowsBeforeAndAfterAndIsThePersonsAuditedChange() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let ada = try await fixture.consoleBrowser(client, sub: "ada", scopes: ["policies:admin", "approvals:read"])
            let page = String(buffer: try await ada.get(client, "/console/w/acme/admin/policies").body)
            #expect(page.contains(#"id="policy-gmail.send""#) && page.contains(#"id="policy-task.create""#))
            let saved = try await ada.post(
                client, "/console/w/acme/admin/policies/gmail.send",
                [("enabled", "on"), ("approval", "required"), ("required_approvals", "2"), ("approval_timeout_seconds", "600"),
                 ("constraints", #"{"allowed_recipient_domains":["example.com"]}"#)])
            let html = String(buffer: saved.body)
            #expect(saved.status == .ok && html.contains(#"id="policy-change""#))
            let compact = html.replacingOccurrences(of: " ", with: "")
            #expect(compact.contains("&quot;required_approvals&quot;:1") && compact.contains("&quot;required_approvals&quot;:2"))
            #expect(try await fixture.count("SELECT count(*) FROM policies WHERE workspace_id = 'acme' AND action = 'gmail.send' AND required_approvals = 2") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM audit_events WHERE action = 'policy.changed' AND actor_id = 'ada'") == 1)
            let bad = try await ada.post(
                client, "/console/w/acme/admin/policies/gmail.send",
                [("approval", "sometimes"), ("required_approvals", "2"), ("approval_timeout_seconds", "600")])
            #expect(bad.status == .unprocessableContent && String(buffer: bad.body).contains("approval must be"))
            let reviewer = try await fixture.consoleBrowser(client)
            #expect(try await reviewer.get(client, "/console/w/acme/admin/policies").status == .forbidden)
        }
    }

    @Test func theReviewerDirectoryIsKeptInTheConsoleAndPolicyFormsKeepNotificationRules() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let ada = try await fixture.consoleBrowser(client, sub: "ada", scopes: ["policies:admin", "approvals:read"])
            let saved = try await ada.post(
                client, "/console/w/acme/admin/reviewers",
                [("person", "auth0|5f7c"), ("email", "rita@acme.example"), ("display_name", "Rita"), ("slack_user_id", "U024BE7LH"),
                 ("groups", "finance, security"), ("notify", "on")])
            #expect(saved.status == .seeOther, "\(String(buffer: saved.body))")
            let page = String(buffer: try await ada.get(client, "/console/w/acme/admin/reviewers").body)
            #expect(page.contains("auth0|5f7c") && page.contains("finance, security") && page.contains("U024BE7LH"))
            #expect(page.contains(#"action="/console/w/acme/admin/reviewers/auth0%7C5f7c/remove""#))
            let bad = try await ada.post(
                client, "/console/w/acme/admin/reviewers", [("person", "sam"), ("email", "not an address"), ("groups", "Finance")])
            #expect(bad.status == .unprocessableContent)
            let badPage = String(buffer: bad.body)
            #expect(badPage.contains("Nothing was saved") && badPage.contains("email") && badPage.contains("groups[0]"))
            #expect(try await fixture.count("SELECT count(*)::int FROM reviewers") == 1)
            let removed = try await ada.post(client, "/console/w/acme/admin/reviewers/auth0%7C5f7c/remove", [])
            #expect(removed.status == .seeOther)
            #expect(try await fixture.count("SELECT count(*)::int FROM reviewers") == 0)
            let audited = try await fixture.count(
                "SELECT count(*)::int FROM audit_events WHERE action IN ('reviewer.changed', 'reviewer.removed') AND actor_id = 'ada'")
            #expect(audited == 2)
            let reviewer = try await fixture.consoleBrowser(client)
            #expect(try await reviewer.get(client, "/console/w/acme/admin/reviewers").status == .forbidden)

            // The policy form carries the notification rules: saving it keeps them.
            let withRules = try await ada.post(
                client, "/console/w/acme/admin/policies/gmail.send",
                [("enabled", "on"), ("approval", "required"), ("required_approvals", "1"), ("approval_timeout_seconds", "600"),
                 ("constraints", "{}"), ("notifications", #"{"groups":["finance"],"remind_at":[0.5]}"#)])
            #expect(withRules.status == .ok, "\(String(buffer: withRules.body))")
            let form = String(buffer: try await ada.get(client, "/console/w/acme/admin/policies").body)
            #expect(form.contains("&quot;remind_at&quot;"), "the policy page shows the rules to be posted again")
            let stored = try await fixture.count(
                "SELECT count(*)::int FROM policies WHERE action = 'gmail.send' AND notifications = '{\"groups\":[\"finance\"],\"remind_at\":[0.5]}'::jsonb")
            #expect(stored == 1)
        }
    }

    @Test func aReviewerNamesTheirDelegateAndThePolicyFormKeepsApproverGroups() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let ada = try await fixture.consoleBrowser(client, sub: "ada", scopes: ["policies:admin", "approvals:read"])
            for (person, groups) in [("rita", "finance"), ("omar", "")] {
                let saved = try await ada.post(
                    client, "/console/w/acme/admin/reviewers", [("person", person), ("email", "\(person)@acme.example"), ("groups", groups)])
                #expect(saved.status == .seeOther)
            }
            // Approver groups in words: "2 finance"; anything else is named, nothing saved.
            let policy: [(String, String)] = [
                ("enabled", "on"), ("approval", "required"), ("required_approvals", "2"), ("approval_timeout_seconds", "600"), ("constraints", "{}"),
            ]
            #expect(try await ada.post(client, "/console/w/acme/admin/policies/gmail.send", policy + [("approvers", "finance")]).status == .unprocessableContent)
            let grouped = try await ada.post(client, "/console/w/acme/admin/policies/gmail.send", policy + [("approvers", "2 finance")])
            #expect(grouped.status == .ok, "\(String(buffer: grouped.body))")
            #expect(String(buffer: try await ada.get(client, "/console/w/acme/admin/policies").body).contains(#"name="approvers" value="2 finance""#))
            #expect(try await fixture.count("SELECT count(*)::int FROM policies WHERE approvers = '[{\"count\":2,\"group\":\"finance\"}]'::jsonb") == 1)

            let rita = try await fixture.consoleBrowser(client, sub: "rita", scopes: ["approvals:read", "approvals:decide"])
            #expect(String(buffer: try await rita.get(client, "/console/w/acme/delegation").body).contains(#"id="set-delegation""#))
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
            let until = formatter.string(from: Date().addingTimeInterval(2 * 86400))
            let unknown = try await rita.post(client, "/console/w/acme/delegation", [("delegate", "nobody"), ("until", until)])
            #expect(unknown.status == .conflict && String(buffer: unknown.body).contains("must be in this workspace"))
            let named = try await rita.post(client, "/console/w/acme/delegation", [("delegate", "omar"), ("until", until)])
            #expect(named.status == .seeOther, "\(String(buffer: named.body))")
            let page = String(buffer: try await rita.get(client, "/console/w/acme/delegation").body)
            #expect(page.contains(#"<strong id="delegate">omar</strong> stands in for you"#), "\(page)")
            #expect(String(buffer: try await ada.get(client, "/console/w/acme/admin/reviewers").body).contains("omar until"))
            #expect(try await rita.post(client, "/console/w/acme/delegation/end", []).status == .seeOther)
            #expect(try await fixture.count("SELECT count(*)::int FROM reviewers WHERE delegate IS NOT NULL") == 0)
            #expect(try await fixture.auditRows(action: "reviewer.delegation_changed").map(\.0) == ["rita", "rita"])
            // Someone the directory does not list has nothing to delegate.
            let zed = try await fixture.consoleBrowser(client, sub: "zed", scopes: ["approvals:read", "approvals:decide"])
            #expect(String(buffer: try await zed.get(client, "/console/w/acme/delegation").body).contains(#"id="not-listed""#))
            #expect(try await zed.post(client, "/console/w/acme/delegation", [("delegate", "omar"), ("until", until)]).status == .notFound)
        }
    }

    @Test func aKeysSecretIsShownOnceAndRevokingStopsIt() async throws {
        try await AuthFixture.with { fixture, client in
            let kim = try await fixture.consoleBrowser(client, sub: "kim", scopes: ["keys:admin", "jobs:read", "jobs:write"])
            let created = try await kim.post(
                client, "/console/w/acme/admin/keys", [("name", "report bot"), ("scopes", "jobs:read"), ("scopes", "jobs:write")])
            let html = String(buffer: created.body)
            #expect(created.status == .ok && created.headers[.cacheControl] == "no-store")
            let secret = try #require(html.range(of: #"<pre id="secret-value">"#).map { String(html[$0.upperBound...].prefix { $0 != "<" }) })
            #expect(secret.hasPrefix("gk_"))
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(secret)).status == .ok)
            let list = String(buffer: try await kim.get(client, "/console/w/acme/admin/keys").body)
            #expect(list.contains("report bot") && !list.contains(secret))
            let id = String(secret.dropFirst(3).prefix(16))
            // Beyond her own scopes: refused by the use case's rules, audited.
            let beyond = try await kim.post(client, "/console/w/acme/admin/keys", [("name", "too much"), ("scopes", "audit:export")])
            #expect(beyond.status == .forbidden)
            let revoked = try await kim.post(client, "/console/w/acme/admin/keys/\(id)/revoke", [])
            #expect(revoked.status == .seeOther)
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(secret)).status == .unauthorized)
            #expect(try await fixture.count("SELECT count(*) FROM audit_events WHERE action IN ('key.created', 'key.revoked') AND actor_id = 'kim'") == 2)
        }
    }

    @Test func aDeadLetterIsRequeuedFromItsPage() async throws {
        // No executors: the job stays where the test puts it.
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let job = try await fixture.submit(client, key: UUID().uuidString, body: taskBody)
            let jobID = try #require(job.json["id"] as? String)
            try await fixture.execute("UPDATE jobs SET status = 'running' WHERE id = '\(jobID)' AND status = 'queued'")
            try await fixture.execute(
                "UPDATE jobs SET status = 'dead', status_code = 'task_failed', status_reason = 'boom', attempts = 5 WHERE id = '\(jobID)'")
            let ada = try await fixture.consoleBrowser(client, sub: "ada", scopes: ["policies:admin"])
            let page = String(buffer: try await ada.get(client, "/console/w/acme/admin/dead-letters").body)
            #expect(page.contains(#"data-job="\#(jobID)""#) && page.contains("task_failed: boom"))
            let requeued = try await ada.post(client, "/console/w/acme/admin/dead-letters/\(jobID)/requeue", [])
            #expect(requeued.status == .seeOther && requeued.headers[.location] == "/console/w/acme/admin/dead-letters?requeued=\(jobID)")
            #expect(try await fixture.count("SELECT count(*) FROM jobs WHERE id = '\(jobID)' AND status <> 'dead'") == 1)
            #expect(try await ada.post(client, "/console/w/acme/admin/dead-letters/\(jobID)/requeue", []).status == .conflict)
        }
    }
}
