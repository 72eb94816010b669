import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let rateLimitLimit = Self("RateLimit-Limit")!
    static let rateLimitRemaining = Self("RateLimit-Remaining")!
    static let rateLimitReset = Self("RateLimit-Reset")!
    static let rateLimitPolicy = Self("RateLimit-Policy")!
}

/// Applies the per-principal and per-workspace limits after authentication, and
/// reports them on every response past it (`RateLimit-*`), problems included, 429
/// with `Retry-After` when spent.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = context.parameters.get("ws") ?? ""
        let bucket: RateLimiter.Bucket = (context.endpointPath ?? "").firstRange(of: "/approvals") != nil ? .approvals : .standard
        let decision = try await limiter.check(
            limiter.limits(bucket: bucket, principalKey: "\(principal.kind.rawValue):\(principal.id)", workspace: workspace),
            policyName: bucket.rawValue)
        guard decision.allowed else {
            var problem = Problem(.tooManyRequests, detail: "rate limit exceeded; retry after \(decision.retryAfterSeconds) s")
            problem.headers = Self.headers(decision)
            problem.headers[.retryAfter] = String(max(1, decision.retryAfterSeconds))
            throw problem
        }
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: Self.headers(decision))
            return response
        } catch {
            // Refusals past this point (403, 404, 409, 422 …) were counted too: they say so.
            var problem = ProblemMiddleware.problem(for: error, logger: context.logger)
            problem.headers.append(contentsOf: Self.headers(decision))
            throw problem
        }
    }

    static func headers(_ decision: RateLimitDecision) -> HTTPFields {
        [
            .rateLimitLimit: String(decision.limit),
            .rateLimitRemaining: String(decision.remaining),
            .rateLimitReset: String(decision.resetSeconds),
            .rateLimitPolicy: decision.policy,
        ]
    }
}
