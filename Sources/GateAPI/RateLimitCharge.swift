import Redis
import Synchronization

/// One request's charge against its rate limits, taken once. `RateLimitMiddleware`
/// takes it up front, except for submissions: there it is deferred so that it rides
/// with the idempotency claim in one Redis script (`takeThenSetIfAbsentOrGet`),
/// one round trip instead of two on every submission and replay. A deferred charge
/// is still taken before anything is written (`SecurityAudit` takes it before a
/// refusal's audit row) and, at the latest, by the middleware when the handler is
/// done: every request pays exactly once, and a refused one changes nothing.
final class RateLimitCharge: Sendable {
    let limiter: RateLimiter
    let limits: [RateLimiter.Limit]
    let policyName: String
    private let taken = Mutex<RateLimitDecision?>(nil)

    init(limiter: RateLimiter, limits: [RateLimiter.Limit], policyName: String) {
        self.limiter = limiter
        self.limits = limits
        self.policyName = policyName
    }

    /// The verdict, once the charge is taken.
    var decision: RateLimitDecision? { taken.withLock { $0 } }

    /// Takes the charge unless it was taken; a 429 problem when the limits refuse it.
    func take() async throws {
        if let decision { return try Self.enforce(decision) }
        try record(await limiter.check(limits, policyName: policyName))
    }

    /// Takes the charge and, if allowed, sets `key` unless it exists (`SET NX EX`):
    /// what the key already held, or nil when this call set it.
    func takeThenSetIfAbsentOrGet(_ key: String, to value: String, expiresInSeconds: Int) async throws -> String? {
        if let decision {
            try Self.enforce(decision)
            return try await limiter.redis.setIfAbsentOrGet(key, to: value, expiresInSeconds: expiresInSeconds)
        }
        let (decision, current) = try await limiter.checkThenSetIfAbsentOrGet(
            limits, policyName: policyName, key: key, to: value, expiresInSeconds: expiresInSeconds)
        try record(decision)
        return current
    }

    private func record(_ decision: RateLimitDecision) throws {
        taken.withLock { $0 = decision }
        try Self.enforce(decision)
    }

    private static func enforce(_ decision: RateLimitDecision) throws {
        guard decision.allowed else { throw RateLimitMiddleware.refusal(decision) }
    }
}
