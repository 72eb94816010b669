import Foundation
import GateCore

/// API keys as the authenticator sees them, kept in memory for a few seconds: each
/// authenticated request would otherwise read its key from Postgres. A change to a key
/// (revoke, rotate) must call `invalidate` — the admin routes do it for this replica,
/// the Postgres notification `key:<id>` (migration 0008) for the others — and `ttl`
/// bounds staleness if a notification is lost. Ids found unknown are remembered too (a
/// negative cache, for the same `ttl`, of at most `unknownCapacity` ids, emptied when
/// full), so a client repeating a made-up or deleted key costs one lookup, not one per
/// request. Key ids are random and first seen in the answer that creates the key, so
/// no id can be remembered as unknown before its key exists; a change notification
/// drops it anyway. A stream of different made-up ids is bounded by `AuthFailureThrottle` instead.
public final class CachedAPIKeyLookup: APIKeyLookup {
    private let base: any APIKeyLookup
    private let cache: ExpiringCache<String, APIKeyRecord>
    private let unknown: ExpiringCache<String, Bool>

    public init(_ base: any APIKeyLookup, ttl: Duration, unknownCapacity: Int = 10_000) {
        self.base = base
        self.cache = ExpiringCache(ttl: ttl)
        self.unknown = ExpiringCache(ttl: ttl, capacity: unknownCapacity)
    }

    public func find(id: String) async throws -> APIKeyRecord? {
        if await unknown.value(for: id, load: { nil }) == true { return nil }
        let record = try await cache.value(for: id) { try await base.find(id: id) }
        if record == nil { _ = await unknown.value(for: id) { true } }
        return record
    }

    public func touchLastUsed(id: String) async throws {
        // Updated first: requests arriving while the write is in flight do not touch again.
        cache.update(id) { $0.lastUsedAt = Date() }
        try await base.touchLastUsed(id: id)
    }

    public func invalidate(id: String) {
        cache.invalidate(id)
        unknown.invalidate(id)
    }

    public func invalidateAll() {
        cache.invalidateAll()
        unknown.invalidateAll()
    }
}
