import Gate
import GateCore

/// The submission gate's view of policies, kept in memory for a few seconds, absent
/// policies included (an action the workspace does not allow is refused without a
/// query). Invalidated like `CachedAPIKeyLookup`: locally by the policy routes, from
/// other replicas by the notification `policy:<workspace>:<action>` (migration 0008).
/// The executor does not use it: it re-reads the policy before running a job. It times
/// only its misses (the server wraps `load` in its dependency timeout), so a hit pays for
/// nothing.
public final class CachedPolicyLookup: PolicyLookup {
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

    public typealias Load = @Sendable (_ workspaceID: String, _ action: String) async throws -> Policy?

    private let load: Load
    private let cache: ExpiringCache<Key, Found>

    /// `load` reads one policy on a miss (the server wraps the store's read in its
    /// dependency timeout there, so that a hit pays for none).
    public init(ttl: Duration, load: @escaping Load) {
        self.load = load
        self.cache = ExpiringCache(ttl: ttl)
    }

    public convenience init(store: PolicyStore, ttl: Duration) {
        self.init(ttl: ttl) { workspaceID, action in try await store.find(workspaceID: workspaceID, action: action) }
    }

    public func find(workspaceID: String, action: String) async throws -> Policy? {
        let load = self.load
        return try await cache.value(for: Key(workspaceID: workspaceID, action: action)) {
            Found(policy: try await load(workspaceID, action))
        }?.policy
    }

    public func invalidate(workspaceID: String, action: String) {
        cache.invalidate(Key(workspaceID: workspaceID, action: action))
    }

    public func invalidateAll() { cache.invalidateAll() }
}
