import Redis

struct RateLimitSettings: Sendable {
    /// Per principal (API key or user), for everything but approvals.
    var perMinute: Int
    /// How many requests may arrive at once before the rate applies.
    var burst: Int
    /// Per workspace, all principals together.
    var workspacePerMinute: Int
    /// Per principal, for the approvals endpoints: reviewers keep working while an
    /// agent exhausts its own budget.
    var approvalsPerMinute: Int
}

/// The verdict for one request, with what the `RateLimit-*` headers report.
struct RateLimitDecision: Sendable, Equatable {
    let allowed: Bool
    let limit: Int
    let remaining: Int
    /// Seconds until the bucket is full again.
    let resetSeconds: Int
    /// Seconds until a retry can succeed (0 when allowed).
    let retryAfterSeconds: Int
    let policy: String
}

/// GCRA (generic cell rate algorithm) over several keys at once, in one Lua script:
/// atomic across replicas, Redis's own clock, and a request refused by any key
/// charges none of them. The same script can claim a key (`SET NX`, else `GET`) when
/// the request is allowed, so a submission's charge and its idempotency claim are one
/// round trip (`RateLimitCharge`).
struct RateLimiter: Sendable {
    let redis: RedisClient
    let settings: RateLimitSettings
    /// `REDIS_KEY_PREFIX`: several deployments (or tests) can share one Redis.
    let keyPrefix: String

    enum Bucket: String, Sendable {
        case standard = "default"
        case approvals
    }

    struct Limit: Sendable {
        let key: String
        let perMinute: Int
        let burst: Int
    }

    /// KEYS: the limits' keys, then (ARGV[1] = 'claim') the key to claim. ARGV: 'check'
    /// or 'claim', an interval and a tolerance per limit, then (claiming) value and TTL.
    /// The claim is `SET NX EX`, then `GET` if the key was there: atomic inside the
    /// script, and Redis 6, which refuses NX with GET, runs it too.
    static let script = RedisScript(
        """
        local claiming = ARGV[1] == 'claim'
        local n = #KEYS
        if claiming then n = n - 1 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local allowed, retry = 1, 0
        local tats = {}
        local remaining, reset = nil, 0
        for i = 1, n do
          local interval = tonumber(ARGV[2 * i])
          local tolerance = tonumber(ARGV[2 * i + 1])
          local tat = tonumber(redis.call('GET', KEYS[i]) or now)
          if tat < now then tat = now end
          local new_tat = tat + interval
          local allow_at = new_tat - tolerance
          if allow_at > now then
            allowed = 0
            retry = math.max(retry, allow_at - now)
            new_tat = tat
          end
          tats[i] = new_tat
          if i == 1 then
            remaining = math.max(0, math.floor((now + tolerance - new_tat) / interval))
            reset = new_tat - now
          end
        end
        local current = false
        if allowed == 1 then
          for i = 1, n do
            redis.call('SET', KEYS[i], tats[i], 'PX', math.ceil(math.max(1, tats[i] - now)))
          end
          if claiming and not redis.call('SET', KEYS[n + 1], ARGV[2 * n + 2], 'NX', 'EX', ARGV[2 * n + 3]) then
            current = redis.call('GET', KEYS[n + 1])
          end
        end
        return {allowed, remaining, reset, retry, current}
        """)

    func limits(bucket: Bucket, principalKey: String, workspace: String) -> [Limit] {
        let perMinute = bucket == .approvals ? settings.approvalsPerMinute : settings.perMinute
        let burst = bucket == .approvals ? max(1, settings.approvalsPerMinute / 10) : settings.burst
        return [
            Limit(key: "\(keyPrefix)rl:\(bucket.rawValue):p:\(principalKey)", perMinute: perMinute, burst: burst),
            Limit(key: "\(keyPrefix)rl:\(bucket.rawValue):w:\(workspace)", perMinute: settings.workspacePerMinute,
                  burst: max(1, settings.workspacePerMinute / 10)),
        ]
    }

    /// Charges one request against every limit, or none if any refuses it. The
    /// first limit is the one reported in the headers.
    func check(_ limits: [Limit], policyName: String) async throws(RedisError) -> RateLimitDecision {
        try await run(limits, policyName: policyName, claim: nil).decision
    }

    /// `check`, and if the request is allowed, `SET key value NX EX seconds` in the same
    /// script: `current` is what the key already held, nil when this call set it
    /// (or when the request was refused and nothing was set).
    func checkThenSetIfAbsentOrGet(
        _ limits: [Limit], policyName: String, key: String, to value: String, expiresInSeconds: Int
    ) async throws(RedisError) -> (decision: RateLimitDecision, current: String?) {
        try await run(limits, policyName: policyName, claim: (key, value, expiresInSeconds))
    }

    private func run(
        _ limits: [Limit], policyName: String, claim: (key: String, value: String, expiresInSeconds: Int)?
    ) async throws(RedisError) -> (decision: RateLimitDecision, current: String?) {
        var keys = limits.map(\.key)
        var arguments = [claim == nil ? "check" : "claim"]
        for limit in limits {
            let interval = 60_000 / Double(limit.perMinute)
            // Tolerance τ = interval × burst lets `burst` requests through at once
            // (the ε absorbs floating-point error in interval × k).
            arguments += [String(interval), String(interval * Double(limit.burst) + 0.001)]
        }
        if let claim {
            keys.append(claim.key)
            arguments += [claim.value, String(claim.expiresInSeconds)]
        }
        let reply = try await redis.eval(Self.script, keys: keys, arguments: arguments)
        guard case .array(let values) = reply, values.count == 5,
            let allowed = values[0].integer, let remaining = values[1].integer, let reset = values[2].integer,
            let retry = values[3].integer
        else { throw .protocolError("rate limit script reply") }
        let first = limits[0]
        let decision = RateLimitDecision(
            allowed: allowed == 1, limit: first.perMinute, remaining: Int(remaining),
            resetSeconds: Int((reset + 999) / 1000), retryAfterSeconds: Int((retry + 999) / 1000),
            policy: "\"\(policyName)\";q=\(first.perMinute);w=60;burst=\(first.burst)")
        return (decision, values[4].string)
    }
}
