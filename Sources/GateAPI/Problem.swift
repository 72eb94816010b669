import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem: the body of every error response. `detail` is written for
/// the client; internal errors never reach it. It renders itself (`HTTPResponseError`),
/// so a handler, a middleware or Hummingbird's own error path all answer the same body.
struct Problem: HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let title: String
    let detail: String
    var headers: HTTPFields = [:]
    /// Extra members (JSON-compatible values: strings, numbers, arrays, objects),
    /// e.g. the fields that failed validation or the readiness checks.
    var extensions: [String: any Sendable] = [:]

    init(_ status: HTTPResponse.Status, title: String? = nil, detail: String) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
    }

    /// `type` is a stable URI per status so clients can switch on it.
    var type: String { "https://gateapi.dev/problems/\(status.code)" }

    /// The request id is the one `RequestIDMiddleware` gave the request (and its response).
    func response(from request: Request, context: some RequestContext) -> Response {
        response(requestID: (context as? AppRequestContext)?.requestID ?? "")
    }

    private func response(requestID: String) -> Response {
        var object: [String: Any] = [
            "type": type, "title": title, "status": status.code, "detail": detail, "request_id": requestID,
        ]
        for (key, value) in extensions { object[key] = value }
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func serviceUnavailable(_ dependency: String) -> Problem {
        var problem = Problem(.serviceUnavailable, detail: "\(dependency) is unavailable; retry later")
        problem.headers[.retryAfter] = "1"
        return problem
    }
}
