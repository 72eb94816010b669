import Hummingbird

/// Enforces `MAX_BODY_BYTES`: a declared `Content-Length` over the limit is refused
/// before the body is read; a chunked body is cut off by `request.decode`, which
/// collects at most `context.maxUploadSize` bytes, within `context.bodyReadTimeout`.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let maxBodyBytes: Int
    var bodyReadTimeout: Duration = .seconds(30)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw Problem(.contentTooLarge, detail: "request body is \(length) bytes; the limit is \(maxBodyBytes)")
        }
        var context = context
        context.maxUploadSize = maxBodyBytes
        context.bodyReadTimeout = bodyReadTimeout
        return try await next(request, context)
    }
}
