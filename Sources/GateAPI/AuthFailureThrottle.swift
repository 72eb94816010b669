import GateCore

/// Failed authentications allowed per client address in this replica: a token bucket
/// per address (`AUTH_FAILURES_PER_MINUTE`, burst `AUTH_FAILURES_BURST`) that each
/// refused credential spends. An address whose bucket is empty is answered 429 before
/// its credential is looked at, so guessing keys costs a scanner its address, not the
/// database a lookup per made-up key id (the checksum only catches mistyped keys: a
/// guesser can compute it). IPv6 addresses count per /64, which one host usually has
/// whole. Behind a load balancer this needs `TRUSTED_PROXIES`, or every client shares
/// the balancer's address.
final class AuthFailureThrottle: Sendable {
    private let buckets: KeyedTokenBuckets<Void>
    let perMinute: Int
    let burst: Int

    static var sharedKey: String { KeyedTokenBuckets<Void>.sharedKey }

    /// `capacity`: addresses tracked at once; past it, new ones share one bucket.
    init(perMinute: Int, burst: Int, capacity: Int = 10_000) {
        self.perMinute = perMinute
        self.burst = burst
        self.buckets = KeyedTokenBuckets(perMinute: perMinute, burst: burst, capacity: capacity, fresh: ())
    }

    /// Whole seconds until `address` may present a credential again; nil: it may now.
    func retryAfter(_ address: String?, now: ContinuousClock.Instant = .now) -> Int? {
        guard let tokens = buckets.tokens(Self.key(address), now: now), tokens < 1 else { return nil }
        return max(1, Int(((1 - tokens) / buckets.refillRate).rounded(.up)))
    }

    /// Spends one of the address's tokens for a refused credential.
    func failed(_ address: String?, now: ContinuousClock.Instant = .now) {
        buckets.update(Self.key(address), now: now) { $0.tokens = max(0, $0.tokens - 1) }
    }

    /// The address, or its /64 for IPv6.
    static func key(_ address: String?) -> String {
        guard let address else { return sharedKey }
        guard address.contains(":"), let bytes = IPAddress(address)?.unmapped.bytes, bytes.count == 16 else { return address }
        return bytes[0..<8].map { String($0, radix: 16) }.joined(separator: ".") + "/64"
    }
}
