import Foundation
import HTTPTypes
import Hummingbird

/// `GET /openapi.json` (the contract) and `GET /docs` (a page that renders it). Both
/// are public and touch no dependency; they sit outside `/v1/workspaces/{ws}`.
struct APIDocsController: Sendable {
    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/openapi.json", use: document)
        router.get("/docs", use: docs)
    }

    /// The document with a strong `ETag`; `If-None-Match` with it is a 304. Clients
    /// revalidate every time (`no-cache`): a deploy may change the document.
    @Sendable func document(_ request: Request, context: AppRequestContext) async throws -> Response {
        var headers: HTTPFields = [.eTag: OpenAPIDocument.etag, .cacheControl: "no-cache"]
        if let condition = request.headers[.ifNoneMatch], Self.matches(condition, etag: OpenAPIDocument.etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "application/json"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: OpenAPIDocument.body))
    }

    @Sendable func docs(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: APIDocsPage.contentSecurityPolicy,
                .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer", .cacheControl: "no-cache",
            ],
            body: .init(byteBuffer: APIDocsPage.body))
    }

    /// RFC 9110 §13.1.2: `*`, or a list of entity tags compared weakly (`W/` ignored).
    static func matches(_ condition: String, etag: String) -> Bool {
        condition.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == "*" || tag == etag
        }
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
