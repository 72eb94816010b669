import GateCore

/// The submission gate's view of policies, kept in memory for a few seconds, absent
/// policies included (an action the workspace does not allow is refused without a
/// query). Invalidated like `CachedAPIKeyLookup`: locally by the policy routes, from
/// other replicas by the notification `policy:<workspace>:<action>` (migration 0008).
/// The executor does not use it: it re-reads the policy before running a job.
public final class CachedPolicyLookup: Sendable {
    public struct Key: Hashable, Sendable {
        public let workspaceID: String
        public let action: String

        public init(workspaceID: String, action: String) {
            self.workspaceID = workspaceID
            self.action = action
        }
    }

    /// A lookup's result, absence included.
    private struct Found: Sendable {
        let policy: Policy?
    }

    private let store: PolicyStore
    private let cache: ExpiringCache<Key, Found>

    public init(store: PolicyStore, ttl: Duration) {
        self.store = store
        self.cache = ExpiringCache(ttl: ttl)
    }

    public func find(workspaceID: String, action: String) async throws -> Policy? {
        let store = self.store
        return try await cache.value(for: Key(workspaceID: workspaceID, action: action)) {
            Found(policy: try await store.find(workspaceID: workspaceID, action: action))
        }?.policy
    }

    public func invalidate(workspaceID: String, action: String) {
        cache.invalidate(Key(workspaceID: workspaceID, action: action))
    }

    public func invalidateAll() { cache.invalidateAll() }
}
