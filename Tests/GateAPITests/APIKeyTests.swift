import Foundation
import Gate
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

@Suite struct APIKeyTests {
    let keysPath = "/v1/workspaces/acme/api-keys"

    func create(_ client: any TestClientProtocol, with admin: String, body: String) async throws -> TestResponse {
        try await client.execute(
            uri: keysPath, method: .post, headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
            body: ByteBuffer(string: body))
    }

    @Test func createdKeyWorksInBothHeadersAndIsNeverListedWithItsSecret() async throws {
        try await AuthFixture.with { fixture, client in
            let created = try await create(client, with: fixture.adminKey, body: #"{"name":"reader","scopes":["keys:admin"]}"#)
            #expect(created.status == .created)
            #expect(created.headers[.cacheControl] == "no-store")
            let secret = try #require(created.json["key"] as? String)
            let id = try #require(created.json["id"] as? String)
            #expect(secret.hasPrefix("gk_\(id)_"))
            #expect(created.json["acts_for"] as? String == "admin-person")

            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(secret)).status == .ok)
            let listing = try await client.execute(uri: keysPath, method: .get, headers: [.apiKey: secret])
            #expect(listing.status == .ok)
            let text = String(buffer: listing.body)
            #expect(text.contains(id))
            #expect(!text.contains(secret) && !text.contains("\"key\""))

            // Only the hash is stored.
            let stored = try await fixture.db.withClient { client in
                let rows = try await client.query("SELECT encode(secret_hash, 'hex') FROM api_keys WHERE id = \(id)")
                for try await (hex) in rows.decode(String.self) { return hex }
                return ""
            }
            #expect(stored.count == 64 && !stored.contains(secret))
            let audit = try await fixture.auditRows(action: "key.created")
            #expect(audit.count == 2)
        }
    }

    @Test func validationErrorsAre4xxAndChangeNothing() async throws {
        try await AuthFixture.with { fixture, client in
            let cases: [(String, HTTPResponse.Status)] = [
                (#"{"name":"x","scopes":["jobs:fly"]}"#, .unprocessableContent),
                (#"{"name":"x","scopes":[]}"#, .unprocessableContent),
                (#"{"name":"","scopes":["jobs:read"]}"#, .unprocessableContent),
                (#"{"name":"x","scopes":["jobs:read"],"expires_at":"2001-01-01T00:00:00Z"}"#, .unprocessableContent),
                (#"{"name":"x","scopes":["jobs:read"],"expires_at":""}"#, .unprocessableContent),
                (#"{"name":"x","scopes":["jobs:read"],"expires_at":"2099-02-30T00:00:00Z"}"#, .unprocessableContent),
                (#"{"name":"x","scopes":["jobs:read"],"expires_at":1}"#, .badRequest),
                // Postgres cannot store U+0000 (this was a 500); other controls are refused with it.
                (#"{"name":"a\u0000b","scopes":["jobs:read"]}"#, .unprocessableContent),
                (#"{"name":"a\nb","scopes":["jobs:read"]}"#, .unprocessableContent),
                (#"{"name":"x","scopes":["jobs:read"],"acts_for":"x\u0000"}"#, .unprocessableContent),
                (#"{"name":"x"}"#, .badRequest),
                (#"{"name":5,"scopes":["jobs:read"]}"#, .badRequest),
                ("not json", .badRequest),
            ]
            for (body, status) in cases {
                let response = try await create(client, with: fixture.adminKey, body: body)
                #expect(response.status == status, "\(body)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            let keys = try await fixture.db.withClient { client in
                let rows = try await client.query("SELECT count(*)::int FROM api_keys")
                for try await (n) in rows.decode(Int.self) { return n }
                return -1
            }
            #expect(keys == 1)
        }
    }

    @Test func aKeyCannotGrantScopesItDoesNotHold() async throws {
        try await AuthFixture.with { fixture, client in
            let limited = try await create(client, with: fixture.adminKey, body: #"{"name":"keys only","scopes":["keys:admin"]}"#)
            let secret = try #require(limited.json["key"] as? String)
            let escalation = try await create(client, with: secret, body: #"{"name":"more","scopes":["jobs:write"]}"#)
            #expect(escalation.status == .forbidden)
        }
    }

    @Test func revokedAndExpiredKeysAre401() async throws {
        try await AuthFixture.with { fixture, client in
            let created = try await create(client, with: fixture.adminKey, body: #"{"name":"temp","scopes":["keys:admin"]}"#)
            let secret = try #require(created.json["key"] as? String)
            let id = try #require(created.json["id"] as? String)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(secret)).status == .ok)
            let revoke = try await client.execute(uri: "\(keysPath)/\(id)", method: .delete, headers: bearer(fixture.adminKey))
            #expect(revoke.status == .noContent)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(secret)).status == .unauthorized)
            // Revoking again is idempotent and not audited twice; an unknown id is 404.
            #expect(try await client.execute(uri: "\(keysPath)/\(id)", method: .delete, headers: bearer(fixture.adminKey)).status == .noContent)
            #expect(try await client.execute(uri: "\(keysPath)/zzzzzzzzzzzzzzzz", method: .delete, headers: bearer(fixture.adminKey)).status == .notFound)
            #expect(try await fixture.auditRows(action: "key.revoked").count == 1)

            // A key cannot be made already expired; one that has since expired is refused.
            let expired = try await fixture.db.withClient { client in
                try await APIKeyStore(client: client, logger: TestEnvironment.logger).create(
                    workspaceID: "acme", name: "old", scopes: [.keysAdmin], expiresAt: Date().addingTimeInterval(3600),
                    createdBy: "test", actsFor: nil, actor: AuditActor(kind: .system, id: "test"))
            }
            try await fixture.execute("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = '\(expired.0.id)'")
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(expired.1.value)).status == .unauthorized)
            let reasons = try await fixture.auditRows(action: "auth.denied").compactMap(\.2)
            #expect(reasons == ["key_revoked", "key_expired"])
        }
    }

    @Test func rotationKeepsTheOldSecretForTheOverlapOnly() async throws {
        try await AuthFixture.with { fixture, client in
            let created = try await create(client, with: fixture.adminKey, body: #"{"name":"rotating","scopes":["keys:admin"]}"#)
            let old = try #require(created.json["key"] as? String)
            let id = try #require(created.json["id"] as? String)
            let rotated = try await client.execute(
                uri: "\(keysPath)/\(id)/rotate", method: .post, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"overlap_seconds":2}"#))
            #expect(rotated.status == .ok)
            let new = try #require(rotated.json["key"] as? String)
            #expect(new != old && new.hasPrefix("gk_\(id)_"))
            #expect(rotated.json["previous_key_expires_at"] != nil)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(old)).status == .ok)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(new)).status == .ok)
            try await Task.sleep(for: .milliseconds(2500))
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(old)).status == .unauthorized)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(new)).status == .ok)

            // Overlap 0 ends the old secret at once; a revoked key cannot be rotated.
            let again = try await client.execute(
                uri: "\(keysPath)/\(id)/rotate", method: .post, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"overlap_seconds":0}"#))
            let newest = try #require(again.json["key"] as? String)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(new)).status == .unauthorized)
            #expect(try await client.execute(uri: keysPath, method: .get, headers: bearer(newest)).status == .ok)
            _ = try await client.execute(uri: "\(keysPath)/\(id)", method: .delete, headers: bearer(fixture.adminKey))
            let refused = try await client.execute(uri: "\(keysPath)/\(id)/rotate", method: .post, headers: bearer(fixture.adminKey))
            #expect(refused.status == .conflict)
            #expect(try await fixture.auditRows(action: "key.rotated").count == 2)
        }
    }

    @Test func keysAreBoundToTheirWorkspace() async throws {
        try await AuthFixture.with { fixture, client in
            let response = try await client.execute(uri: "/v1/workspaces/other/api-keys", method: .get, headers: bearer(fixture.adminKey))
            #expect(response.status == .notFound)
            // A key id from another workspace is not found either.
            let otherKey = try await fixture.db.withClient { client in
                try await APIKeyStore(client: client, logger: TestEnvironment.logger).create(
                    workspaceID: "other", name: "theirs", scopes: [.keysAdmin], expiresAt: nil, createdBy: "test",
                    actsFor: nil, actor: AuditActor(kind: .system, id: "test"))
            }
            let revoke = try await client.execute(uri: "\(keysPath)/\(otherKey.0.id)", method: .delete, headers: bearer(fixture.adminKey))
            #expect(revoke.status == .notFound)
            #expect(try await client.execute(uri: "/v1/workspaces/other/api-keys", method: .get, headers: bearer(otherKey.1.value)).status == .ok)
        }
    }

    @Test func malformedKeysAreRefusedAndAudited() async throws {
        try await AuthFixture.with { fixture, client in
            var broken = Array(fixture.adminKey)
            broken[25] = broken[25] == "a" ? "b" : "a"
            let response = try await client.execute(uri: keysPath, method: .get, headers: [.apiKey: String(broken)])
            #expect(response.status == .unauthorized)
            #expect(try await fixture.auditRows(action: "auth.denied").compactMap(\.2) == ["key_malformed"])
        }
    }

    @Test func listingPaginatesWithACursor() async throws {
        try await AuthFixture.with { fixture, client in
            for i in 0..<4 {
                _ = try await create(client, with: fixture.adminKey, body: #"{"name":"k\#(i)","scopes":["jobs:read"]}"#)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let uri = keysPath + "?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.execute(uri: uri, method: .get, headers: bearer(fixture.adminKey))
                let items = try #require(page.json["items"] as? [[String: Any]])
                #expect(items.count <= 2)
                seen += items.compactMap { $0["id"] as? String }
                cursor = page.json["next_cursor"] as? String
            } while cursor != nil
            #expect(seen.count == 5 && Set(seen).count == 5)
            #expect(try await client.execute(uri: keysPath + "?limit=0", method: .get, headers: bearer(fixture.adminKey)).status == .badRequest)
            // Like every other listing, a cursor that is not an id of the listed kind is a 400.
            for bad in ["", "abc", "ABCDEFGHIJKLMNOP", "job_01m842b1qzn8zrsh1pszppps0m", "aaaaaaaaaaaaaaa1"] {
                let response = try await client.execute(uri: keysPath + "?cursor=\(bad)", method: .get, headers: bearer(fixture.adminKey))
                #expect(response.status == .badRequest, "cursor=\(bad)")
            }
        }
    }
}
