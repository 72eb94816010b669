import Foundation
import GateCore
import Hummingbird

extension Request {
    /// Decodes a JSON body; malformed JSON or a wrong type is a 400 that names the
    /// field, an over-size body 413, never a 500. Every body is first read by the
    /// strict parser (`JSONValue(parsing:)`), so duplicate keys and trailing commas are
    /// refused the same way on every route.
    func decodeJSON<T: Decodable>(as type: T.Type, context: AppRequestContext) async throws -> T {
        let buffer = try await collectBody(context: context)
        guard buffer.readableBytes > 0 else { throw Problem(.badRequest, detail: "a JSON body is required") }
        return try Self.decode(T.self, from: buffer)
    }

    /// A JSON body when there is one; nil for an empty body.
    func decodeOptionalJSON<T: Decodable>(as type: T.Type, context: AppRequestContext) async throws -> T? {
        if headers[.contentLength] == "0" { return nil }
        let buffer = try await collectBody(context: context)
        guard buffer.readableBytes > 0 else { return nil }
        return try Self.decode(T.self, from: buffer)
    }

    /// The whole body, or 413 past `maxUploadSize`. A body that has not all arrived
    /// within `bodyReadTimeout` loses its connection: a client trickling it byte by
    /// byte would otherwise hold the connection and this task as long as it liked,
    /// since each byte resets the server's idle timer. An event-loop timer, not a
    /// sleeping task, as in `withTimeout`: this runs on every submission.
    private func collectBody(context: AppRequestContext) async throws -> ByteBuffer {
        let channel = context.channel
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(context.bodyReadTimeout.seconds * 1e9))) {
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            return try await body.collect(upTo: context.maxUploadSize)
        } catch {
            guard channel.isActive else {
                // Nobody will read this answer; it says why in the access log.
                throw Problem(.requestTimeout, detail: "the request body did not arrive within \(context.bodyReadTimeout)")
            }
            throw Problem(.contentTooLarge, detail: "request body is larger than \(context.maxUploadSize) bytes")
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        let value: JSONValue
        do {
            value = try buffer.withUnsafeReadableBytes { raw throws(JSONParseError) in try JSONValue(parsing: raw) }
        } catch {
            throw Problem(.badRequest, detail: "the body is not valid JSON: \(error)")
        }
        if let value = value as? T { return value }
        do {
            return try JSONDecoder.api.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw Problem(.badRequest, detail: Self.describe(error))
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(.badRequest, detail: "the body is not valid JSON")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing field \"\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)\""
        case .typeMismatch(let type, let context):
            return "field \"\(path(context.codingPath))\" must be \(Self.name(of: type))"
        case .valueNotFound(let type, let context):
            return "field \"\(path(context.codingPath))\" must be \(Self.name(of: type)), not null"
        case .dataCorrupted(let context):
            let at = path(context.codingPath)
            return at.isEmpty ? "the body is not valid JSON" : "field \"\(at)\" is invalid"
        @unknown default:
            return "the body could not be read"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [Any].Type: return "an array"
        default: return "of another type"
        }
    }
}

extension JSONDecoder {
    /// snake_case keys in the types themselves; RFC 3339 dates.
    static let api: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

extension JSONEncoder {
    static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// A JSON response body with a status (and `Cache-Control: no-store` for secrets).
struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: Body
    var noStore = false
    var headers: HTTPFields = [:]

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        if noStore { headers[.cacheControl] = "no-store" }
        if let body = body as? any JSONWritable {
            var writer = JSONWriter()
            body.writeJSON(to: &writer)
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
        }
        let data = try JSONEncoder.api.encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
