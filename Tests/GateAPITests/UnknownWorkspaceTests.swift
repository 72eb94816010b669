import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// A workspace a request names must exist, and whatever it carries from another
/// workspace (a cursor) must not reach into that one.
@Suite struct UnknownWorkspaceTests {
    /// A JWT may name any workspace id. One that does not exist is a 404 on every
    /// workspace route — before, the routes that write answered 500 (a foreign key) and
    /// the others answered as if it existed. Once the workspace is created it is served.
    @Test func aJWTNamingAWorkspaceThatDoesNotExistGets404OnEveryRoute() async throws {
        try await AuthFixture.with { fixture, client in
            let scopes = Scope.allCases.map(\.rawValue)
            let token = try await fixture.identity.token(TestIdentity.claims(sub: "ghost-admin", ws: ["ghost": scopes, "acme": scopes]))
            let router = try await OpenAPITests.makeRouter()
            let routes = router.routes.filter { $0.path.description.hasPrefix("/v1/workspaces/") }
            #expect(routes.count > 20)
            for route in routes {
                let path = OpenAPITests.normalized(route.path.description).split(separator: "/").enumerated().map { index, part in
                    part != "{}" ? String(part) : index == 2 ? "ghost" : "x1"
                }.joined(separator: "/")
                var headers = bearer(token)
                headers[.contentType] = "application/json"
                headers[.idempotencyKey] = UUID().uuidString
                let response = try await client.execute(
                    uri: "/" + path, method: route.method, headers: headers, body: ByteBuffer(string: "{}"))
                #expect(response.status == .notFound, "\(route.method) /\(path): \(response.status) \(String(buffer: response.body))")
            }
            // A valid write, which the path placeholders above do not make.
            var headers = bearer(token)
            headers[.contentType] = "application/json"
            let policy = try await client.execute(
                uri: "/v1/workspaces/ghost/policies/gmail.send", method: .put, headers: headers,
                body: ByteBuffer(string: #"{"approval":"required","approval_timeout_seconds":3600}"#))
            #expect(policy.status == .notFound, "\(policy.status) \(String(buffer: policy.body))")
            // Nothing was written into the workspace that is not there.
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE workspace_id = 'ghost'") == 0)
            // The same token is served in a workspace that exists...
            let acme = try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(token))
            #expect(acme.status == .ok)
            // ...and in this one as soon as it exists (an unknown id is not remembered).
            try await fixture.db.withClient { postgres in
                _ = try await WorkspaceStore(client: postgres, logger: TestEnvironment.logger).create(
                    id: "ghost", name: "ghost", defaults: [], actor: AuditActor(kind: .system, id: "test"))
            }
            let created = try await client.execute(uri: "/v1/workspaces/ghost/jobs", method: .get, headers: bearer(token))
            #expect(created.status == .ok)
        }
    }

    /// The pending-approval listing positions its page after the cursor's approval. A
    /// cursor from another workspace must not position it (it would reveal that
    /// approval's deadline by which of this workspace's approvals follow it): it names
    /// no approval here, so the page is empty. Cursors of this workspace still page.
    @Test func aCursorFromAnotherWorkspaceReadsNothingOfIt() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            var acme: [String] = []
            for _ in 0..<3 { acme.append(try await fixture.pendingEmail(client).1) }
            // An approval of `other`, due before all of acme's.
            let otherJob = SortableID.make(prefix: "job")
            let otherApproval = SortableID.make(prefix: "apr")
            try await fixture.execute("""
                INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                                  submitted_by, required_approvals, expires_at)
                VALUES ('\(otherJob)', 'other', 'gmail.send', '{}', repeat('a', 64), 'pending_approval', 'k', 'api_key', 'x', 1,
                        now() + interval '1 minute')
                """)
            try await fixture.execute("""
                INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at)
                VALUES ('\(otherApproval)', 'other', '\(otherJob)', 'gmail.send', 'pending', repeat('a', 64), 1,
                        now() + interval '1 minute')
                """)
            let alice = try await fixture.reviewer("alice")
            func page(_ cursor: String) async throws -> [String] {
                let response = try await client.execute(
                    uri: "/v1/workspaces/acme/approvals?cursor=\(cursor)", method: .get, headers: bearer(alice))
                #expect(response.status == .ok)
                return (response.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
            #expect(try await page(otherApproval) == [])
            #expect(try await page(acme[0]) == [acme[1], acme[2]])
        }
    }
}
