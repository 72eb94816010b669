import Auth
import Hummingbird
import Logging
import NIOCore

/// The per-request context every handler receives.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Echoed in `X-Request-Id` and in every problem body and log line of the request.
    var requestID: String = ""
    /// Set from `MAX_BODY_BYTES` by `BodyLimitMiddleware`; `request.decode` enforces it.
    var maxUploadSize: Int = 1_048_576
    /// Set by `AuthenticationMiddleware` on every `/v1` route.
    var principal: Principal?
    /// Set only on a submission: its rate-limit charge, which `RateLimitMiddleware`
    /// defers to the idempotency claim. Elsewhere nil (the charge was taken up front).
    var rateLimit: RateLimitCharge?
    /// The TCP peer. Client-sent `X-Forwarded-For` is never trusted for limits.
    let remoteIP: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }

    /// The authenticated principal; routes under `/v1` always have one.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw Problem(.unauthorized, detail: "authentication required") }
        return principal
    }
}
