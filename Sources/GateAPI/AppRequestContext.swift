import Hummingbird
import Logging

/// The per-request context every handler receives.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Echoed in `X-Request-Id` and in every problem body and log line of the request.
    var requestID: String = ""
    /// Set from `MAX_BODY_BYTES` by `BodyLimitMiddleware`; `request.decode` enforces it.
    var maxUploadSize: Int = 1_048_576

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}
