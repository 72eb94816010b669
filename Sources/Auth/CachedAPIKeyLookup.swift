import Foundation
import GateCore

/// API keys as the authenticator sees them, kept in memory for a few seconds: each
/// authenticated request would otherwise read its key from Postgres. A change to a key
/// (revoke, rotate) must call `invalidate` — the admin routes do it for this replica,
/// the Postgres notification `key:<id>` (migration 0008) for the others — and `ttl`
/// bounds staleness if a notification is lost. Unknown ids are not cached, so made-up
/// keys cannot fill memory.
public final class CachedAPIKeyLookup: APIKeyLookup {
    private let base: any APIKeyLookup
    private let cache: ExpiringCache<String, APIKeyRecord>

    public init(_ base: any APIKeyLookup, ttl: Duration) {
        self.base = base
        self.cache = ExpiringCache(ttl: ttl)
    }

    public func find(id: String) async throws -> APIKeyRecord? {
        try await cache.value(for: id) { try await base.find(id: id) }
    }

    public func touchLastUsed(id: String) async throws {
        // Updated first: requests arriving while the write is in flight do not touch again.
        cache.update(id) { $0.lastUsedAt = Date() }
        try await base.touchLastUsed(id: id)
    }

    public func invalidate(id: String) { cache.invalidate(id) }
    public func invalidateAll() { cache.invalidateAll() }
}
