import Synchronization

/// A token bucket per key (a client address, a principal) in this process: each refills
/// at `perMinute / 60` tokens a second up to `burst`, and a key seen for the first time
/// starts full. At most `capacity` keys are tracked, so made-up keys cannot fill memory:
/// when a new key finds the table full, the buckets that have refilled (and that
/// `keep` does not hold on to) are forgotten — at most once a second, since that reads
/// every bucket — and if it is still full the newcomer shares the bucket `sharedKey`.
/// `Extra` is what a user of the buckets keeps beside the tokens (a count, or nothing).
public final class KeyedTokenBuckets<Extra: Sendable>: Sendable {
    /// One key's bucket, refilled to the moment it is read.
    public struct Bucket: Sendable {
        public var tokens: Double
        public var extra: Extra
    }

    private struct Stored {
        var bucket: Bucket
        var updated: ContinuousClock.Instant
    }

    private struct State {
        var buckets: [String: Stored] = [:]
        var lastSweep: ContinuousClock.Instant?
    }

    /// The bucket of keys beyond `capacity`.
    public static var sharedKey: String { "*" }

    private let state = Mutex(State())
    private let rate: Double
    private let burst: Double
    private let capacity: Int
    private let fresh: Extra
    private let keep: @Sendable (Extra) -> Bool

    /// `fresh` is a new bucket's `extra`; a refilled bucket whose `extra` `keep` accepts
    /// is not forgotten.
    public init(
        perMinute: Int, burst: Int, capacity: Int, fresh: Extra, keep: @escaping @Sendable (Extra) -> Bool = { _ in false }
    ) {
        self.rate = Double(perMinute) / 60
        self.burst = Double(burst)
        self.capacity = capacity
        self.fresh = fresh
        self.keep = keep
    }

    /// Tokens per second.
    public var refillRate: Double { rate }

    /// The tokens `key` holds at `now`; nil if it is not tracked (it would start full).
    public func tokens(_ key: String, now: ContinuousClock.Instant = .now) -> Double? {
        state.withLock { state in state.buckets[key].map { refilled($0, at: now) } }
    }

    /// Runs `body` on `key`'s bucket refilled to `now` (or on the shared bucket, see the
    /// type) and keeps what it leaves.
    public func update<Result>(_ key: String, now: ContinuousClock.Instant = .now, _ body: (inout Bucket) -> Result) -> Result {
        state.withLock { state in
            var key = key
            if state.buckets[key] == nil, state.buckets.count >= capacity {
                if state.lastSweep.map({ now - $0 >= .seconds(1) }) ?? true {
                    state.lastSweep = now
                    state.buckets = state.buckets.filter { keep($0.value.bucket.extra) || refilled($0.value, at: now) < burst }
                }
                if state.buckets.count >= capacity { key = Self.sharedKey }
            }
            var bucket = state.buckets[key].map { Bucket(tokens: refilled($0, at: now), extra: $0.bucket.extra) }
                ?? Bucket(tokens: burst, extra: fresh)
            let result = body(&bucket)
            state.buckets[key] = Stored(bucket: bucket, updated: now)
            return result
        }
    }

    /// Keys tracked now.
    public var count: Int { state.withLock { $0.buckets.count } }

    private func refilled(_ stored: Stored, at now: ContinuousClock.Instant) -> Double {
        min(burst, stored.bucket.tokens + rate * (now - stored.updated).seconds)
    }
}
