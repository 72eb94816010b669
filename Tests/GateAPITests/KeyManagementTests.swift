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

/// No privilege gained through key management (issue 22 §2): rotating (which hands over
/// a secret) and revoking obey the rule of creating, and a rotation's overlap cannot keep
/// an old secret alive, or turn it into a new one.
@Suite struct KeyManagementTests {
    let keysPath = "/v1/workspaces/acme/api-keys"

    /// A lesser key admin can neither take over (rotate) nor revoke a key that holds
    /// scopes it does not hold; both refusals are audited and change nothing.
    @Test func rotateAndRevokeNeedEveryScopeOfTheKey() async throws {
        try await AuthFixture.with { fixture, client in
            let lesser = try await fixture.newKey(client, as: fixture.adminKey, #"{"name":"key clerk","scopes":["keys:admin","jobs:read"]}"#)
            let agent = try await fixture.newKey(client, as: fixture.adminKey, #"{"name":"agent","scopes":["jobs:write","jobs:read"]}"#)

            let rotate = try await fixture.rotateKey(client, agent.id, as: lesser.secret)
            #expect(rotate.status == .forbidden)
            #expect(rotate.json["key"] == nil)
            #expect(String(buffer: rotate.body).contains("jobs:write"))
            #expect(try await fixture.revokeKey(client, agent.id, as: lesser.secret).status == .forbidden)
            #expect(try await fixture.auditRows(action: "key.rotate_refused").map(\.2) == ["beyond_own_scopes"])
            #expect(try await fixture.auditRows(action: "key.revoke_refused").map(\.2) == ["beyond_own_scopes"])
            #expect(try await fixture.count("SELECT count(*)::int FROM api_keys WHERE id = '\(agent.id)' AND rotated_at IS NULL AND revoked_at IS NULL") == 1)
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(agent.secret)).status == .ok)

            // A person holding the key's scopes may; a key of another workspace stays a 404.
            let admin = try await fixture.userToken("dana", ["keys:admin", "jobs:write", "jobs:read"])
            #expect(try await fixture.rotateKey(client, agent.id, as: admin).status == .ok)
            #expect(try await fixture.revokeKey(client, agent.id, as: admin).status == .noContent)
            let foreign = try await fixture.db.withClient { client in
                try await APIKeyStore(client: client, logger: TestEnvironment.logger).create(
                    workspaceID: "other", name: "theirs", scopes: [.jobsRead], expiresAt: nil, createdBy: "test",
                    actsFor: nil, actor: AuditActor(kind: .system, id: "test"))
            }
            #expect(try await fixture.revokeKey(client, foreign.0.id, as: lesser.secret).status == .notFound)

            // `approvals:decide` on a key from before grants nothing, so it does not protect it.
            let legacy = try await fixture.operatorKey(scopes: [.jobsRead], actsFor: nil)
            try await fixture.execute("UPDATE api_keys SET scopes = scopes || 'approvals:decide'::text WHERE id = '\(legacy.id)'")
            #expect(try await fixture.revokeKey(client, legacy.id, as: lesser.secret).status == .noContent)
        }
    }

    /// During a rotation's overlap the previous secret still does the key's work, but it
    /// cannot administer keys: it could otherwise mint itself a new key or secret that
    /// outlives the overlap (a stolen secret kept alive after the owner rotated).
    @Test func aPreviousSecretCannotAdministerKeys() async throws {
        try await AuthFixture.with { fixture, client in
            let key = try await fixture.newKey(client, as: fixture.adminKey, #"{"name":"admin agent","scopes":["keys:admin","jobs:read"]}"#)
            let rotated = try await fixture.rotateKey(client, key.id, as: fixture.adminKey, overlap: 600)
            let current = try #require(rotated.json["key"] as? String)
            let old = key.secret

            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(old)).status == .ok)
            #expect(try await fixture.createKey(client, as: old, #"{"name":"heir","scopes":["jobs:read"]}"#).status == .forbidden)
            #expect(try await fixture.rotateKey(client, key.id, as: old).status == .forbidden)
            #expect(try await fixture.revokeKey(client, key.id, as: old).status == .forbidden)
            #expect(try await fixture.auditRows(action: "key.create_refused").map(\.2) == ["previous_secret"])
            #expect(try await fixture.auditRows(action: "key.rotate_refused").map(\.2) == ["previous_secret"])
            #expect(try await fixture.auditRows(action: "key.revoke_refused").map(\.2) == ["previous_secret"])
            #expect(try await fixture.count("SELECT count(*)::int FROM api_keys") == 2)

            // The current secret may; a second rotation ends the first one's overlap.
            #expect(try await fixture.createKey(client, as: current, #"{"name":"heir","scopes":["jobs:read"]}"#).status == .created)
            let again = try await fixture.rotateKey(client, key.id, as: current, overlap: 600)
            #expect(again.status == .ok)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(old)).status == .unauthorized)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(current)).status == .ok)
            // Revoking the key ends its previous secret too.
            #expect(try await fixture.revokeKey(client, key.id, as: fixture.adminKey).status == .noContent)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(current)).status == .unauthorized)
        }
    }

    /// An overlap never outlives the key: `previous_key_expires_at` is at most `expires_at`.
    @Test func theOverlapEndsWithTheKey() async throws {
        try await AuthFixture.with { fixture, client in
            let expiresAt = Date().addingTimeInterval(120).formatted(.iso8601)
            let key = try await fixture.newKey(
                client, as: fixture.adminKey, #"{"name":"short","scopes":["jobs:read"],"expires_at":"\#(expiresAt)"}"#)
            let rotated = try await fixture.rotateKey(client, key.id, as: fixture.adminKey, overlap: 86400)
            #expect(rotated.status == .ok)
            let overlapEnd = try #require((rotated.json["previous_key_expires_at"] as? String).flatMap(RFC3339Text.date))
            let keyEnd = try #require((rotated.json["expires_at"] as? String).flatMap(RFC3339Text.date))
            #expect(overlapEnd <= keyEnd)
        }
    }
}
