import Synchronization

/// A small in-process cache of values read from the database on the hot path (API keys,
/// policies). Entries live at most `ttl`; `invalidate` is called on local changes and on
/// Postgres notifications from other replicas, and `ttl` bounds how long a lost
/// notification can leave a stale entry.
public final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Bumped by every invalidation: a load that started before one must not
        /// store what it read, which may be the old value.
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    public let ttl: Duration
    public let capacity: Int

    /// `ttl` zero disables caching: every lookup loads.
    public init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The cached value, or what `load` returns (stored unless it is nil).
    public func value(for key: Key, load: () async throws -> Value?) async rethrows -> Value? {
        guard ttl > .zero else { return try await load() }
        let now = ContinuousClock.now
        let (cached, generation) = state.withLock { state -> (Value?, UInt64) in
            guard let entry = state.entries[key], entry.expires > now else { return (nil, state.generation) }
            return (entry.value, state.generation)
        }
        if let cached { return cached }
        guard let loaded = try await load() else { return nil }
        let expires = ContinuousClock.now + ttl
        state.withLock { state in
            guard state.generation == generation else { return }
            // Bounded memory: when full, start over rather than track recency.
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(value: loaded, expires: expires)
        }
        return loaded
    }

    /// Changes a cached value in place (if present), e.g. a timestamp this process wrote.
    public func update(_ key: Key, _ change: (inout Value) -> Void) {
        state.withLock { state in
            guard var entry = state.entries[key] else { return }
            change(&entry.value)
            state.entries[key] = entry
        }
    }

    public func invalidate(_ key: Key) {
        state.withLock { state in
            state.entries[key] = nil
            state.generation &+= 1
        }
    }

    public func invalidateAll() {
        state.withLock { state in
            state.entries.removeAll()
            state.generation &+= 1
        }
    }

    public var count: Int { state.withLock { $0.entries.count } }
}
