import Actions
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI

/// The reviewer directory (issue 27): kept by workspace admins over the API and the
/// CLI, every change audited with the entry before and after.
@Suite struct ReviewerDirectoryTests {
    func put(_ client: any TestClientProtocol, _ credential: String, _ person: String, _ body: String, workspace: String = "acme")
        async throws -> TestResponse
    {
        try await client.execute(
            uri: "/v1/workspaces/\(workspace)/reviewers/\(person)", method: .put, headers: bearer(credential), body: ByteBuffer(string: body))
    }

    @Test func adminsKeepTheDirectoryAndEveryChangeIsAudited() async throws {
        try await AuthFixture.with { fixture, client in
            let created = try await put(
                client, fixture.adminKey, "rita@acme.example",
                #"{"email":"rita@acme.example","display_name":"Rita Ora","slack_user_id":"U024BE7LH","groups":["security","finance"]}"#)
            #expect(created.status == .ok, "\(String(buffer: created.body))")
            #expect(created.json["groups"] as? [String] == ["finance", "security"])
            #expect(created.json["notify"] as? Bool == true)
            let changed = try await put(client, fixture.adminKey, "rita@acme.example", #"{"email":"rita.ora@acme.example","notify":false}"#)
            #expect(changed.status == .ok && changed.json["email"] as? String == "rita.ora@acme.example")
            #expect(changed.json["groups"] as? [String] == [] && changed.json["slack_user_id"] is NSNull)
            let sam = try await put(client, fixture.adminKey, "auth0%7C5f7c8ec7", #"{"email":"sam@acme.example"}"#)
            #expect(sam.status == .ok && sam.json["person"] as? String == "auth0|5f7c8ec7", "\(String(buffer: sam.body))")

            let listed = try await client.execute(uri: "/v1/workspaces/acme/reviewers", method: .get, headers: bearer(fixture.adminKey))
            let items = try #require(listed.json["items"] as? [[String: Any]])
            #expect(items.map { $0["person"] as? String } == ["auth0|5f7c8ec7", "rita@acme.example"])
            let one = try await client.execute(uri: "/v1/workspaces/acme/reviewers/auth0%7C5f7c8ec7", method: .get, headers: bearer(fixture.adminKey))
            #expect(one.status == .ok && one.json["email"] as? String == "sam@acme.example", "\(String(buffer: one.body))")

            let removed = try await client.execute(
                uri: "/v1/workspaces/acme/reviewers/rita@acme.example", method: .delete, headers: bearer(fixture.adminKey))
            #expect(removed.status == .noContent)
            let again = try await client.execute(
                uri: "/v1/workspaces/acme/reviewers/rita@acme.example", method: .delete, headers: bearer(fixture.adminKey))
            #expect(again.status == .notFound)

            let audit = try await fixture.db.withClient { db in
                let rows = try await db.query(
                    "SELECT action, target_id, details->'before'->>'email', details->'after'->>'email' FROM audit_events WHERE target_type = 'reviewer' ORDER BY seq")
                var found: [String] = []
                for try await (action, target, before, after) in rows.decode((String, String?, String?, String?).self) {
                    found.append("\(action) \(target ?? "") \(before ?? "-") → \(after ?? "-")")
                }
                return found
            }
            #expect(audit == [
                "reviewer.changed rita@acme.example - → rita@acme.example",
                "reviewer.changed rita@acme.example rita@acme.example → rita.ora@acme.example",
                "reviewer.changed auth0|5f7c8ec7 - → sam@acme.example",
                "reviewer.removed rita@acme.example rita.ora@acme.example → -",
            ])
        }
    }

    @Test func badEntriesAreNamedAndOnlyAdminsOfTheWorkspaceMayChangeIt() async throws {
        try await AuthFixture.with { fixture, client in
            let bad = try await put(
                client, fixture.adminKey, "rita",
                #"{"email":"Rita <rita@acme.example>","slack_user_id":"rita","groups":["Finance","ok","ok"],"notify":"yes","phone":"1"}"#)
            #expect(bad.status == .unprocessableContent)
            let fields = (bad.json["errors"] as? [[String: String]])?.compactMap { $0["field"] } ?? []
            #expect(Set(fields) == ["email", "slack_user_id", "groups[0]", "groups[2]", "notify", "phone"], "\(fields)")
            let badPerson = try await put(client, fixture.adminKey, "rita%20ora", #"{"email":"rita@acme.example"}"#)
            #expect(badPerson.status == .unprocessableContent)
            #expect(try await fixture.count("SELECT count(*)::int FROM reviewers") == 0)

            let reviewer = try await identity(fixture, scopes: ["approvals:read", "approvals:decide"])
            #expect(try await put(client, reviewer, "rita", #"{"email":"rita@acme.example"}"#).status == .forbidden)
            let listing = try await client.execute(uri: "/v1/workspaces/acme/reviewers", method: .get, headers: bearer(reviewer))
            #expect(listing.status == .forbidden)
            // Another workspace's directory does not exist for acme's admin.
            let foreign = try await put(client, fixture.adminKey, "rita", #"{"email":"rita@acme.example"}"#, workspace: "globex")
            #expect(foreign.status == .notFound)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'authz.denied'") >= 1)
        }
    }

    func identity(_ fixture: AuthFixture, scopes: [String]) async throws -> String {
        try await fixture.identity.token(TestIdentity.claims(sub: "rita", ws: ["acme": scopes]))
    }

    @Test func theShellKeepsTheSameDirectory() async throws {
        try await TestDatabase.withFresh { db in
            let env = TestEnvironment.appEnvironment(databaseURL: db.url)
            let cli = CLITests()
            #expect(try await cli.gateAPI(["workspace", "create", "team-9"], environment: env).0 == 0)
            let added = try await cli.gateAPI(
                ["reviewers", "put", "--workspace", "team-9", "rita@team9.example", "--email", "rita@team9.example", "--group", "finance",
                 "--group", "security", "--name", "Rita"], environment: env)
            #expect(added.0 == 0, "\(added.2)")
            #expect(added.1.contains("rita@team9.example <rita@team9.example> in finance, security"))
            let refused = try await cli.gateAPI(
                ["reviewers", "put", "--workspace", "team-9", "sam", "--email", "not an address"], environment: env)
            #expect(refused.0 == 1 && refused.2.contains("email must be an address"))
            let listed = try await cli.gateAPI(["reviewers", "list", "--workspace", "team-9"], environment: env)
            #expect(listed.1.contains("rita@team9.example <rita@team9.example> [finance, security]"))
            // Out of office: a delegate from the directory, for a period.
            let delegate = ["reviewers", "delegate", "--workspace", "team-9", "rita@team9.example"]
            let until = RFC3339.format(Date().addingTimeInterval(7 * 86400))
            let unknown = try await cli.gateAPI(delegate + ["--to", "omar", "--until", until], environment: env)
            #expect(unknown.0 == 1 && unknown.2.contains("not in team-9's directory"), "\(unknown.2)")
            #expect(try await cli.gateAPI(["reviewers", "put", "--workspace", "team-9", "omar", "--email", "omar@team9.example"], environment: env).0 == 0)
            let tooLong = try await cli.gateAPI(delegate + ["--to", "omar", "--until", "2999-01-01T00:00:00Z"], environment: env)
            #expect(tooLong.0 == 1 && tooLong.2.contains("until must be at most 366 days"), "\(tooLong.2)")
            let named = try await cli.gateAPI(delegate + ["--to", "omar", "--until", until], environment: env)
            #expect(named.0 == 0 && named.1.contains("rita@team9.example → omar from"), "\(named.2)")
            #expect(try await cli.gateAPI(["reviewers", "list", "--workspace", "team-9"], environment: env).1.contains("→ omar"))
            #expect(try await cli.gateAPI(delegate + ["--end"], environment: env).1.contains("has no delegate"))
            #expect(try await cli.gateAPI(["reviewers", "remove", "--workspace", "team-9", "rita@team9.example"], environment: env).0 == 0)
            #expect(try await cli.gateAPI(["reviewers", "remove", "--workspace", "team-9", "rita@team9.example"], environment: env).0 == 1)
            #expect(try await db.count("SELECT count(*)::int FROM audit_events WHERE action LIKE 'reviewer.%' AND actor_type = 'cli'") == 5)
        }
    }
}
