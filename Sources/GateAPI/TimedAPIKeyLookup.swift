import Auth

/// The key store with a time limit on each database read, placed under the cache
/// (`CachedAPIKeyLookup(TimedAPIKeyLookup(store))`) so that only a miss pays for a
/// timer and a task: most requests find their key in memory.
struct TimedAPIKeyLookup: APIKeyLookup, PostgresTimed {
    let base: any APIKeyLookup
    let timeout: Duration

    func find(id: String) async throws -> APIKeyRecord? {
        try await timed { try await base.find(id: id) }
    }

    func touchLastUsed(id: String) async throws {
        try await timed { try await base.touchLastUsed(id: id) }
    }
}
