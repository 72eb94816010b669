import Hummingbird

/// Enforces `MAX_BODY_BYTES`: a declared `Content-Length` over the limit is refused
/// before the body is read; a chunked body is cut off by `request.decode`, which
/// collects at most `context.maxUploadSize` bytes, within `context.bodyReadTimeout`.
/// A job submission (`POST /v1/workspaces/{ws}/jobs`) may carry files, so its limit is
/// `MAX_SUBMISSION_BODY_BYTES`; how many such bodies are read at once is the
/// submission handler's to bound (`JobsController.LargeBodies`), after authentication.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let maxBodyBytes: Int
    var maxSubmissionBodyBytes: Int
    var bodyReadTimeout: Duration = .seconds(30)

    init(maxBodyBytes: Int, maxSubmissionBodyBytes: Int? = nil, bodyReadTimeout: Duration = .seconds(30)) {
        self.maxBodyBytes = maxBodyBytes
        self.maxSubmissionBodyBytes = max(maxBodyBytes, maxSubmissionBodyBytes ?? maxBodyBytes)
        self.bodyReadTimeout = bodyReadTimeout
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let limit = Self.isSubmission(request) ? maxSubmissionBodyBytes : maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem(.contentTooLarge, detail: "request body is \(length) bytes; the limit is \(limit)")
        }
        var context = context
        context.maxUploadSize = limit
        context.bodyReadTimeout = bodyReadTimeout
        return try await next(request, context)
    }

    /// `POST /v1/workspaces/{ws}/jobs`, exactly.
    static func isSubmission(_ request: Request) -> Bool {
        guard request.method == .post else { return false }
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[0].isEmpty && parts[1] == "v1" && parts[2] == "workspaces" && !parts[3].isEmpty
            && parts[4] == "jobs"
    }
}
