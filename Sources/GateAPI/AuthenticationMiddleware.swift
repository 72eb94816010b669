import Auth
import GateCore
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let apiKey = Self("X-API-Key")!
}

/// Authenticates every `/v1` request from `Authorization: Bearer …` or `X-API-Key`.
/// Failures are 401 with `WWW-Authenticate`, and audited in the workspace the path names
/// (within the client address's `DenialAuditBudget`). An address that failed too often
/// (`AuthFailureThrottle`) gets 429 before its credential is looked at.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator
    let denials: BudgetedDenialAudit
    let failures: AuthFailureThrottle

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let workspace = context.workspace
        if let retryAfter = failures.retryAfter(context.remoteIP) {
            var problem = Problem(.tooManyRequests, detail: "too many failed authentications from this address; retry after \(retryAfter) s")
            problem.headers[.retryAfter] = String(retryAfter)
            // The address's bucket, in the same headers as every other limit.
            problem.headers[.rateLimitLimit] = String(failures.burst)
            problem.headers[.rateLimitRemaining] = "0"
            problem.headers[.rateLimitReset] = String(retryAfter)
            problem.headers[.rateLimitPolicy] = "\"auth_failures\";q=\(failures.perMinute);w=60;burst=\(failures.burst)"
            try await deny(reason: "auth_failures_exceeded", claimedID: nil, workspace: workspace, request: request, context: context, problem: problem)
        }
        guard let credential = Self.credential(in: request) else {
            try await deny(reason: "credentials_missing", claimedID: nil, workspace: workspace, request: request, context: context,
                           challenge: #"Bearer realm="gateapi""#)
        }
        let principal: Principal
        do {
            // Key reads are timed below the cache (TimedAPIKeyLookup), JWKS fetches by their client.
            principal = try await authenticator.authenticate(credential)
        } catch let failure as AuthenticationFailure {
            failures.failed(context.remoteIP)
            try await deny(reason: failure.reason, claimedID: failure.claimedID, workspace: workspace, request: request,
                           context: context, challenge: #"Bearer realm="gateapi", error="invalid_token""#)
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "principal"] = .string(principal.qualifiedID)
        return try await next(request, context)
    }

    private func deny(
        reason: String, claimedID: String?, workspace: WorkspaceID?, request: Request, context: Context, challenge: String
    ) async throws -> Never {
        var problem = Problem(.unauthorized, detail: "missing or invalid credentials")
        problem.headers[.wwwAuthenticate] = challenge
        try await deny(reason: reason, claimedID: claimedID, workspace: workspace, request: request, context: context, problem: problem)
    }

    private func deny(
        reason: String, claimedID: String?, workspace: WorkspaceID?, request: Request, context: Context, problem: Problem
    ) async throws -> Never {
        if let workspace {
            try await denials.denied(
                source: context.remoteIP, workspace: workspace.rawValue, action: "auth.denied", principal: nil, claimedID: claimedID,
                reason: reason, request: request, context: context)
        }
        context.logger.notice("authentication denied", metadata: ["reason": .string(reason)])
        throw problem
    }

    /// The presented credential: `Authorization: Bearer` first, then `X-API-Key`.
    static func credential(in request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            let token = parts[1].trimmingSpaces()
            return token.isEmpty ? nil : token
        }
        if let key = request.headers[.apiKey]?.trimmingSpaces(), !key.isEmpty { return key }
        return nil
    }
}
