import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What Gmail answered for a sent message.
public struct GmailSentMessage: Sendable, Equatable {
    /// Gmail's message id (not the RFC 5322 Message-ID).
    public let id: String
    public let threadID: String?

    public init(id: String, threadID: String?) {
        self.id = id
        self.threadID = threadID
    }
}

/// The two Gmail API calls `gmail.send` needs: `users.messages.send` with a raw
/// RFC 5322 message, and a search by Message-ID so that a job whose earlier attempt
/// may have sent its message (crash, lost answer, expired lease) does not send twice.
/// Every failure is an `ExecutionFailure`; see `classify` for which are retryable.
public struct GmailClient: Sendable {
    public struct Configuration: Sendable {
        public static let defaultBaseURL = "https://gmail.googleapis.com"

        /// Scheme and host (and port), no trailing slash; tests point it at a local server.
        public var baseURL: String
        public var requestTimeout: Duration

        public init(baseURL: String = defaultBaseURL, requestTimeout: Duration = .seconds(30)) {
            self.baseURL = baseURL
            self.requestTimeout = requestTimeout
        }

        /// `GMAIL_API_BASE_URL` (default `https://gmail.googleapis.com`).
        public static func fromEnvironment(
            _ environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws(GoogleConfigurationError) -> Configuration {
            Configuration(baseURL: try GoogleConfigurationError.checkedURL(environment, "GMAIL_API_BASE_URL", default: defaultBaseURL))
        }
    }

    private let httpClient: HTTPClient
    public let configuration: Configuration
    private static let service = "Gmail"

    public init(httpClient: HTTPClient = .shared, configuration: Configuration = Configuration()) {
        self.httpClient = httpClient
        self.configuration = configuration
    }

    /// Sends `raw` (the whole message, CRLF line endings) as the authenticated user.
    /// Small messages go as JSON (`{"raw": base64url}`); with `upload`, as a media
    /// upload of the message itself (`uploadType=media`, `message/rfc822`), the way
    /// Gmail takes messages of up to 35 MB — the path for messages with files.
    public func send(raw: String, accessToken: String, upload: Bool = false) async throws -> GmailSentMessage {
        var request: HTTPClientRequest
        var timeout = configuration.requestTimeout
        if upload {
            // A message of up to 25 MB must be able to leave: the limit grows by a second
            // per megabyte (an uplink of 8 Mbit/s), within ACTION_TIMEOUT_SECONDS.
            timeout += .seconds(raw.utf8.count / 1_000_000)
            request = HTTPClientRequest(url: "\(configuration.baseURL)/upload/gmail/v1/users/me/messages/send?uploadType=media")
            request.method = .POST
            request.headers = headers(accessToken)
            request.headers.add(name: "Content-Type", value: "message/rfc822")
            request.body = .bytes(ByteBuffer(string: raw))
        } else {
            request = HTTPClientRequest(url: "\(configuration.baseURL)/gmail/v1/users/me/messages/send")
            request.method = .POST
            request.headers = headers(accessToken)
            request.headers.add(name: "Content-Type", value: "application/json")
            // base64url is JSON-safe, so no escaping is needed.
            request.body = .bytes(ByteBuffer(string: #"{"raw":"\#(Self.base64URL(Data(raw.utf8)))"}"#))
        }
        let response = try await GoogleHTTP.perform(
            request, client: httpClient, timeout: timeout, service: Self.service)
        guard response.status == 200 else { throw Self.classify(response) }
        struct Sent: Decodable {
            let id: String
            let threadId: String?
        }
        guard let sent = try? JSONDecoder().decode(Sent.self, from: response.body), !sent.id.isEmpty else {
            // It was probably sent; a retry first looks it up by Message-ID.
            throw ExecutionFailure.retryable("gmail_bad_response", "Gmail answered 200 without a message id")
        }
        return GmailSentMessage(id: sent.id, threadID: sent.threadId)
    }

    /// Gmail's id of the message with this RFC 5322 Message-ID (with or without angle
    /// brackets) in the mailbox, spam and trash included; nil if there is none.
    public func findSent(rfc822MessageID: String, accessToken: String) async throws -> String? {
        try await findSentMessage(rfc822MessageID: rfc822MessageID, accessToken: accessToken)?.id
    }

    /// Like `findSent`, with the thread id too.
    public func findSentMessage(rfc822MessageID: String, accessToken: String) async throws -> GmailSentMessage? {
        var id = Substring(rfc822MessageID)
        if id.hasPrefix("<") && id.hasSuffix(">") { id = id.dropFirst().dropLast() }
        let query = GoogleTokenProvider.formEncode("rfc822msgid:\(id)")
        var request = HTTPClientRequest(
            url: "\(configuration.baseURL)/gmail/v1/users/me/messages?q=\(query)&includeSpamTrash=true")
        request.method = .GET
        request.headers = headers(accessToken)
        let response = try await GoogleHTTP.perform(
            request, client: httpClient, timeout: configuration.requestTimeout, service: Self.service)
        guard response.status == 200 else { throw Self.classify(response) }
        struct List: Decodable {
            struct Message: Decodable {
                let id: String
                let threadId: String?
            }
            let messages: [Message]?
        }
        guard let list = try? JSONDecoder().decode(List.self, from: response.body) else {
            throw ExecutionFailure.retryable("gmail_bad_response", "Gmail answered the message search with unreadable JSON")
        }
        return list.messages?.first.map { GmailSentMessage(id: $0.id, threadID: $0.threadId) }
    }

    private func headers(_ accessToken: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        headers.add(name: "Accept", value: "application/json")
        return headers
    }

    /// Permanent: the request itself is wrong (400 bad message, 403 no permission or
    /// daily quota, 404, 413 too large). Retryable: 401 (once, after a fresh token; the
    /// caller decides), 403 rate-limit reasons, 429 and 5xx (honouring `Retry-After`).
    static func classify(_ response: GoogleHTTPResponse) -> ExecutionFailure {
        let error = GoogleHTTP.errorBody(response.body)
        let status = response.status
        let reason = error.reasons.first.map { " \($0.prefix(64))" } ?? ""
        let detail = GoogleHTTP.safeSnippet(error.message)
        let retryAfter = GoogleHTTP.retryAfter(response.headers)
        let rateLimitReasons: Set = ["rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"]
        switch status {
        case 401:
            return .retryable("gmail_unauthorized", "Gmail refused the access token (HTTP 401)\(detail)")
        case 403 where error.reasons.contains(where: rateLimitReasons.contains):
            return .rateLimited("gmail_rate_limited", "Gmail rate limit (HTTP 403\(reason))\(detail)", retryAfter: retryAfter)
        case 403:
            return .permanent("gmail_forbidden", "Gmail refused the request (HTTP 403\(reason))\(detail)")
        case 400:
            return .permanent("gmail_bad_request", "Gmail rejected the message (HTTP 400\(reason))\(detail)")
        case 404:
            return .permanent("gmail_not_found", "Gmail answered HTTP 404\(detail)")
        case 413:
            return .permanent("gmail_message_too_large", "Gmail refused the message as too large (HTTP 413)")
        case 429:
            return .rateLimited("gmail_rate_limited", "Gmail rate limit (HTTP 429\(reason))\(detail)", retryAfter: retryAfter)
        case 500...599:
            return .retryable("gmail_unavailable", "Gmail answered HTTP \(status)\(detail)", retryAfter: retryAfter)
        default:
            return .permanent("gmail_rejected", "Gmail answered HTTP \(status)\(reason)\(detail)")
        }
    }

    /// RFC 4648 §5 base64url without padding, as `users.messages.send` wants `raw`.
    static func base64URL(_ data: Data) -> String {
        var text = data.base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}
