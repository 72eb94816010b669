import Auth
import Gate
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
    /// How long `request.decode` waits for the whole body (`HTTP_READ_TIMEOUT_SECONDS`,
    /// set by `BodyLimitMiddleware`); a client still sending after it loses the connection.
    var bodyReadTimeout: Duration = .seconds(30)
    /// The connection, closed when its request body is too slow.
    let channel: any Channel
    /// The path's `{ws}`, parsed once (`WorkspacePathMiddleware`): nil if it is not a
    /// well-formed id. Past `WorkspaceAccessMiddleware` it is set and the principal is a
    /// member of it.
    var workspace: WorkspaceID?
    /// Set by `AuthenticationMiddleware` on every `/v1` route.
    var principal: Principal?
    /// Set only on a submission: its rate-limit charge, which `RateLimitMiddleware`
    /// defers to the idempotency claim. Elsewhere nil (the charge was taken up front).
    var rateLimit: RateLimitCharge?
    /// The client's address: the TCP peer, or, behind a `TRUSTED_PROXIES` hop, the
    /// address it forwarded for (`ClientAddressMiddleware`). Anyone else's
    /// `X-Forwarded-For` is ignored.
    var remoteIP: String?
    /// Set by `ConsoleSessionMiddleware` on the console's signed-in pages (the principal
    /// is then the session's person).
    var consoleSession: ConsoleSession?
    var consoleSessionID: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress
        self.channel = source.channel
    }

    /// The workspace of a `/v1/workspaces/{ws}` route, whose member the principal is.
    func requireWorkspace() throws -> String {
        guard let workspace else { throw Problem(.notFound, detail: "no resource at this path") }
        return workspace.rawValue
    }

    /// The authenticated principal; routes under `/v1` always have one.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw Problem(.unauthorized, detail: "authentication required") }
        return principal
    }
}
