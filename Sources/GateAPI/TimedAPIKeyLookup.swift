import Auth

/// The key store with `withTimeout` on each database read, placed under the cache
/// (`CachedAPIKeyLookup(TimedAPIKeyLookup(store))`) so that only a miss pays for a
/// timer and a task: most requests find their key in memory.
struct TimedAPIKeyLookup: APIKeyLookup {
    let base: any APIKeyLookup
    let timeout: Duration

    func find(id: String) async throws -> APIKeyRecord? {
        let base = self.base
        return try await withTimeout(timeout, dependency: "postgres") { try await base.find(id: id) }
    }

    func touchLastUsed(id: String) async throws {
        let base = self.base
        try await withTimeout(timeout, dependency: "postgres") { try await base.touchLastUsed(id: id) }
    }
}
