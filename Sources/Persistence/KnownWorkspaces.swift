import Gate
import Synchronization

/// Which workspaces exist, for credentials that cannot vouch for it themselves: a JWT
/// may name any workspace id, and one that does not exist must be a 404 on every
/// route, not a foreign-key violation (500) in whatever the route writes. An API key
/// belongs to an existing workspace (foreign key). Workspaces are never deleted, so
/// one found stays known (a bounded set); an unknown id is looked up every time, as
/// the CLI may create it at any moment.
public final class KnownWorkspaces: Sendable {
    public typealias Load = @Sendable (_ workspaceID: String) async throws -> Bool

    private let load: Load
    private let known = Mutex<Set<String>>([])
    let capacity: Int

    public init(capacity: Int = 10_000, load: @escaping Load) {
        self.load = load
        self.capacity = capacity
    }

    public convenience init(store: WorkspaceStore) {
        self.init { id in try await store.find(id: id) != nil }
    }

    public func exists(_ workspaceID: String) async throws -> Bool {
        if known.withLock({ $0.contains(workspaceID) }) { return true }
        guard try await load(workspaceID) else { return false }
        known.withLock { known in
            // Bounded memory: when full, start over (each is then looked up once more).
            if known.count >= capacity { known.removeAll(keepingCapacity: true) }
            known.insert(workspaceID)
        }
        return true
    }
}
