import Foundation
import Gate
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Auth
@testable import GateAPI
@testable import GateCore
@testable import Persistence

/// API keys and policies are served from memory on the hot path; a change made
/// anywhere (another replica, the CLI, SQL) must reach this replica through the
/// `gateapi_config` notification, not only when the entry expires.
@Suite struct ConfigCacheTests {
    /// A TTL far longer than the test: only a notification can make these pass.
    static let longTTL = ["CONFIG_CACHE_SECONDS": "300"]

    @Test func aKeyRevokedElsewhereIsRefusedWithoutWaitingForTheCache() async throws {
        try await AuthFixture.with(environment: Self.longTTL) { fixture, client in
            let created = try await client.execute(
                uri: "/v1/workspaces/acme/api-keys", method: .post, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"name":"agent","scopes":["jobs:read"]}"#))
            let secret = try #require(created.json["key"] as? String)
            let id = try #require(created.json["id"] as? String)
            // Cached by this use.
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(secret)).status == .ok)
            // Revoked as another replica or the CLI would: straight in the database.
            try await fixture.execute("UPDATE api_keys SET revoked_at = now() WHERE id = '\(id)'")
            #expect(try await eventually {
                try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(secret)).status == .unauthorized
            })
        }
    }

    @Test func aPolicyChangedElsewhereGatesTheNextSubmission() async throws {
        try await AuthFixture.with(environment: Self.longTTL) { fixture, client in
            try await fixture.allowBothActions(client)
            let first = try await fixture.submit(client, key: "k1", body: taskBody)
            #expect(first.json["status"] as? String == "queued")
            try await fixture.execute(
                "UPDATE policies SET approval = 'required' WHERE workspace_id = 'acme' AND action = 'task.create'")
            var n = 1
            #expect(try await eventually {
                n += 1
                return try await fixture.submit(client, key: "k\(n)", body: taskBody).json["status"] as? String == "pending_approval"
            })
            // An action removed from the allowlist is refused, also when it was cached as allowed.
            try await fixture.execute("DELETE FROM policies WHERE workspace_id = 'acme' AND action = 'task.create'")
            #expect(try await eventually {
                n += 1
                return try await fixture.submit(client, key: "k\(n)", body: taskBody).status == .forbidden
            })
        }
    }

    @Test func touchingLastUsedDoesNotEmptyTheCache() async throws {
        // The trigger ignores last_used_at: a notification per key and minute would make
        // every replica read the key again.
        try await TestDatabase.withFresh { db in
            let notified = try await db.withClient { client in
                try await client.withConnection { listener in
                    try await listener.listen(on: "gateapi_config") { notifications in
                        let store = APIKeyStore(client: client, logger: TestEnvironment.logger)
                        let actor = AuditActor(kind: .system, id: "test")
                        _ = try await WorkspaceStore(client: client, logger: TestEnvironment.logger)
                            .create(id: "acme", name: "acme", defaults: [], actor: actor)
                        let (record, _) = try await store.create(
                            workspaceID: "acme", name: "k", scopes: [.jobsRead], expiresAt: nil, createdBy: "test",
                            actsFor: nil, actor: actor)
                        try await store.touchLastUsed(id: record.id)
                        _ = try await store.revoke(workspaceID: "acme", id: record.id, by: .operator("test"), actor: actor)
                        // Everything up to the revocation's notification (which must come).
                        return try await withTimeout(.seconds(10), dependency: "notification") {
                            var payloads: [String] = []
                            for try await notification in notifications {
                                payloads.append(notification.payload)
                                if notification.payload == "key:\(record.id)" { break }
                            }
                            return (payloads, record.id)
                        }
                    }
                }
            }
            #expect(notified.0 == ["key:\(notified.1)"])
        }
    }

    @Test func cacheEntriesExpireAndInvalidationWinsOverAnInFlightLoad() async throws {
        let cache = ExpiringCache<String, Int>(ttl: .milliseconds(200))
        var loads = 0
        #expect(try await cache.value(for: "a") { loads += 1; return 1 } == 1)
        #expect(try await cache.value(for: "a") { loads += 1; return 2 } == 1)
        #expect(loads == 1)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await cache.value(for: "a") { loads += 1; return 3 } == 3)
        // A load that read before an invalidation must not store what it read.
        let stale = try await cache.value(for: "b") {
            cache.invalidate("b")
            return 10
        }
        #expect(stale == 10)
        #expect(try await cache.value(for: "b") { 11 } == 11)
        // nil is not cached; ttl 0 caches nothing.
        #expect(try await cache.value(for: "c") { nil } == nil)
        #expect(cache.count == 2)
        let off = ExpiringCache<String, Int>(ttl: .zero)
        _ = try await off.value(for: "a") { 1 }
        #expect(off.count == 0)
    }
}
