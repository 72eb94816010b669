import HTTPTypes
import Hummingbird
import Redis

extension HTTPField.Name {
    static let rateLimitLimit = Self("RateLimit-Limit")!
    static let rateLimitRemaining = Self("RateLimit-Remaining")!
    static let rateLimitReset = Self("RateLimit-Reset")!
    static let rateLimitPolicy = Self("RateLimit-Policy")!
}

/// Applies the per-principal and per-workspace limits after authentication, and
/// reports them on every response past it (`RateLimit-*`), problems included, 429
/// with `Retry-After` when spent. A submission's charge is deferred to its
/// idempotency claim (`RateLimitCharge`).
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limiter: RateLimiter
    /// The routes of this group take the charge with their idempotency claim (submissions).
    var defersChargeToClaim = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let endpoint = context.endpointPath ?? ""
        let bucket: RateLimiter.Bucket = endpoint.firstRange(of: "/approvals") != nil ? .approvals : .standard
        let charge = RateLimitCharge(
            limiter: limiter,
            limits: limiter.limits(bucket: bucket, principalKey: principal.qualifiedID, workspace: workspace),
            policyName: bucket.rawValue)
        var context = context
        if defersChargeToClaim {
            context.rateLimit = charge
        } else {
            try await charge.take()
        }
        do {
            var response = try await next(request, context)
            try await charge.take()  // no-op unless the handler never claimed
            response.headers.append(contentsOf: Self.headers(charge.decision))
            return response
        } catch {
            // A Redis failure before the charge was taken: asking Redis again only delays the 503.
            if charge.decision == nil && error is RedisError { throw error }
            try await charge.take()
            // Refusals past this point (403, 404, 409, 422 …) were counted too: they say so.
            var problem = ProblemMiddleware.problem(for: error, logger: context.logger)
            problem.headers.append(contentsOf: Self.headers(charge.decision))
            throw problem
        }
    }

    /// 429, with the limits' headers and `Retry-After`.
    static func refusal(_ decision: RateLimitDecision) -> Problem {
        var problem = Problem(.tooManyRequests, detail: "rate limit exceeded; retry after \(decision.retryAfterSeconds) s")
        problem.headers = headers(decision)
        problem.headers[.retryAfter] = String(max(1, decision.retryAfterSeconds))
        return problem
    }

    static func headers(_ decision: RateLimitDecision?) -> HTTPFields {
        guard let decision else { return [:] }
        return [
            .rateLimitLimit: String(decision.limit),
            .rateLimitRemaining: String(decision.remaining),
            .rateLimitReset: String(decision.resetSeconds),
            .rateLimitPolicy: decision.policy,
        ]
    }
}
