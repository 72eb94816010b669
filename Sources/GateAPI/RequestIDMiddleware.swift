import GateCore
import Hummingbird
import HTTPTypes

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}

/// Gives every request an id: the caller's `X-Request-Id` when it is a short token
/// (so traces join up across services), a fresh random one otherwise.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[.requestID].flatMap(Self.acceptable) ?? Self.generate()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }

    static func acceptable(_ candidate: String) -> String? {
        guard (1...128).contains(candidate.utf8.count),
            candidate.utf8.allSatisfy({ $0 < 0x80 && ($0 == 0x2D || $0 == 0x2E || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)) })
        else { return nil }
        return candidate
    }

    /// 128 random bits as 32 lowercase hex digits.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bits: (UInt64, UInt64) = (generator.next(), generator.next())
        return withUnsafeBytes(of: bits) { Hex.encode($0) }
    }
}
