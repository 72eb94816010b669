import GateCore
import Synchronization

/// Failed authentications allowed per client address in this replica: a token bucket
/// per address (`AUTH_FAILURES_PER_MINUTE`, burst `AUTH_FAILURES_BURST`) that each
/// refused credential spends. An address whose bucket is empty is answered 429 before
/// its credential is looked at, so guessing keys costs a scanner its address, not the
/// database a lookup per made-up key id (the checksum only catches mistyped keys: a
/// guesser can compute it). IPv6 addresses count per /64, which one host usually has
/// whole. Behind a load balancer this needs `TRUSTED_PROXIES`, or every client shares
/// the balancer's address.
final class AuthFailureThrottle: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var lastSweep: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    let perMinute: Int
    let burst: Int
    /// Addresses tracked at once; past it, new ones share one bucket.
    let capacity: Int

    static let sharedKey = "*"

    init(perMinute: Int, burst: Int, capacity: Int = 10_000) {
        self.perMinute = perMinute
        self.burst = burst
        self.capacity = capacity
    }

    /// Whole seconds until `address` may present a credential again; nil: it may now.
    func retryAfter(_ address: String?, now: ContinuousClock.Instant = .now) -> Int? {
        let rate = Double(perMinute) / 60
        return state.withLock { state -> Int? in
            guard let bucket = state.buckets[Self.key(address)] else { return nil }
            let tokens = min(Double(burst), bucket.tokens + rate * (now - bucket.updated).seconds)
            guard tokens < 1 else { return nil }
            return max(1, Int(((1 - tokens) / rate).rounded(.up)))
        }
    }

    /// Spends one of the address's tokens for a refused credential.
    func failed(_ address: String?, now: ContinuousClock.Instant = .now) {
        let rate = Double(perMinute) / 60
        let burst = Double(self.burst)
        let capacity = self.capacity
        state.withLock { state in
            var key = Self.key(address)
            if state.buckets[key] == nil, state.buckets.count >= capacity {
                // Forget addresses whose buckets have refilled (at most once a second:
                // it reads every bucket); meanwhile newcomers share a bucket.
                if state.lastSweep.map({ now - $0 >= .seconds(1) }) ?? true {
                    state.lastSweep = now
                    state.buckets = state.buckets.filter { $0.value.tokens + rate * (now - $0.value.updated).seconds < burst }
                }
                if state.buckets.count >= capacity { key = Self.sharedKey }
            }
            var bucket = state.buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = max(0, min(burst, bucket.tokens + rate * (now - bucket.updated).seconds) - 1)
            bucket.updated = now
            state.buckets[key] = bucket
        }
    }

    /// The address, or its /64 for IPv6.
    static func key(_ address: String?) -> String {
        guard let address else { return sharedKey }
        guard address.contains(":"), let bytes = IPAddress(address)?.unmapped.bytes, bytes.count == 16 else { return address }
        return bytes[0..<8].map { String($0, radix: 16) }.joined(separator: ".") + "/64"
    }
}
