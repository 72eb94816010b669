import Foundation
import MIMETestSupport
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

@testable import Actions

/// A real HTTP server on 127.0.0.1 standing in for Google: the OAuth token endpoint
/// (`POST /token`), Gmail's `users.messages.send` (`POST /gmail/v1/users/me/messages/send`)
/// and the message search by Message-ID (`GET /gmail/v1/users/me/messages?q=rfc822msgid:…`).
///
///     try await withFakeGoogle { google in   // or: let google = try await FakeGoogle.start() … await google.stop()
///         let gmail = GmailClient(configuration: .init(baseURL: google.gmailBaseURL))
///         let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL))
///         google.enqueueSendResponses([.gmailError(503, retryAfter: "7"), .normal])
///         … google.refreshCredentials, google.sentMessages[0].message.subject …
///     }
///
/// Without scripted replies it behaves like Google: the token endpoint accepts only
/// `refreshCredentials` and mints a new access token per exchange; Gmail accepts only
/// `validAccessToken` and minted tokens (401 otherwise, until `expireAccessTokens()`),
/// requires a recipient, records each sent message parsed with `MIMEReader`, and finds
/// it again by its Message-ID. Scripted replies are used first, one per request, per
/// endpoint; every request is recorded either way.
final class FakeGoogle: Sendable {
    /// What the fake answers to one request.
    enum Reply: Sendable {
        /// Behave like Google (send and record, search, or mint a token).
        case normal
        case status(Int, body: String = "", headers: [String: String] = [:])
        /// Waits, then replies. A client with a shorter timeout gives up meanwhile; a
        /// delayed `.normal` send is still recorded afterwards, like a Gmail answer lost
        /// on the way back ("maybe sent").
        indirect case delayed(Duration, Reply)
        /// Sends: accepts and records the message like `.normal`, then answers with the
        /// given reply instead (a 503, say): Gmail delivered, the client hears a failure.
        indirect case acceptedThen(Reply)

        /// A Google API error body: `{"error":{"code":…,"errors":[{"reason":…}],…}}`.
        static func gmailError(_ status: Int, reason: String? = nil, message: String = "scripted error", retryAfter: String? = nil)
            -> Reply
        {
            let errors = reason.map { #","errors":[{"domain":"usageLimits","reason":"\#($0)","message":"\#(message)"}]"# } ?? ""
            return .status(
                status, body: #"{"error":{"code":\#(status),"message":"\#(message)"\#(errors),"status":"SCRIPTED"}}"#,
                headers: retryAfter.map { ["Retry-After": $0] } ?? [:])
        }

        /// An OAuth error body: `{"error":"invalid_grant","error_description":…}`.
        static func oauthError(_ status: Int, _ error: String, retryAfter: String? = nil) -> Reply {
            .status(
                status, body: #"{"error":"\#(error)","error_description":"scripted \#(error)"}"#,
                headers: retryAfter.map { ["Retry-After": $0] } ?? [:])
        }
    }

    struct RecordedRequest: Sendable {
        var method: String
        var path: String
        /// Percent-decoded query parameters.
        var query: [String: String]
        /// Lowercased names.
        var headers: [String: String]
        var body: String

        var bearerToken: String? {
            guard let value = headers["authorization"], value.hasPrefix("Bearer ") else { return nil }
            return String(value.dropFirst("Bearer ".count))
        }

        /// The form fields of a token request.
        var form: [String: String] { FakeGoogle.parseForm(body) }
    }

    struct SentMessage: Sendable {
        var id: String
        var threadID: String
        /// The RFC 5322 message as Gmail received it (base64url decoded).
        var raw: String
        var message: MIMEReader
        var accessToken: String
        /// The Message-ID header without angle brackets.
        var messageID: String?
    }

    /// Accepted by the token endpoint.
    let refreshToken = "1//fake-refresh-token"
    let clientID = "fake-client.apps.googleusercontent.com"
    let clientSecret = "fake-client-secret"
    /// Accepted by Gmail from the start (as a stored static access token would be).
    let validAccessToken = "ya29.fake-static-access-token"

    var refreshCredentials: GoogleCredentials {
        .refreshToken(refreshToken: refreshToken, clientID: clientID, clientSecret: clientSecret)
    }
    var accessTokenCredentials: GoogleCredentials { .accessToken(validAccessToken) }

    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }
    /// For `GmailClient.Configuration(baseURL:)` / `GMAIL_API_BASE_URL`.
    var gmailBaseURL: String { baseURL }
    /// For `GoogleTokenProvider.Configuration(tokenURL:)` / `GOOGLE_TOKEN_URL`.
    var tokenURL: String { "\(baseURL)/token" }

    private struct State {
        var requests: [RecordedRequest] = []
        var sendReplies: [Reply] = []
        var listReplies: [Reply] = []
        var tokenReplies: [Reply] = []
        var validTokens: Set<String> = []
        var mintedTokens: [String] = []
        var tokenLifetimeSeconds = 3599
        var sent: [SentMessage] = []
        var stopped = false
    }

    private let state: NIOLockedValueBox<State>
    private let server: LocalServer

    private init(port: Int, state: NIOLockedValueBox<State>, server: LocalServer) {
        self.port = port
        self.state = state
        self.server = server
    }

    // MARK: Scripting and inspection

    func enqueueSendResponses(_ replies: [Reply]) { state.withLockedValue { $0.sendReplies += replies } }
    func enqueueListResponses(_ replies: [Reply]) { state.withLockedValue { $0.listReplies += replies } }
    func enqueueTokenResponses(_ replies: [Reply]) { state.withLockedValue { $0.tokenReplies += replies } }

    /// `expires_in` of minted tokens.
    func setTokenLifetime(seconds: Int) { state.withLockedValue { $0.tokenLifetimeSeconds = seconds } }

    /// Every access token known so far stops working (Gmail answers 401); the refresh
    /// token still mints new ones.
    func expireAccessTokens() { state.withLockedValue { $0.validTokens = [] } }

    /// Records a message as already sent with this Message-ID (without brackets), as if
    /// an earlier attempt had sent it; returns its Gmail id.
    @discardableResult
    func seedSentMessage(messageID: String) -> String {
        state.withLockedValue { state in
            let id = "msg-\(state.sent.count + 1)"
            let raw = "Message-ID: <\(messageID)>\r\nTo: seeded@example.com\r\nSubject: seeded\r\n\r\nseeded\r\n"
            state.sent.append(
                SentMessage(
                    id: id, threadID: "thread-\(state.sent.count + 1)", raw: raw, message: try! MIMEReader(raw),
                    accessToken: "", messageID: messageID))
            return id
        }
    }

    var requests: [RecordedRequest] { state.withLockedValue { $0.requests } }
    var sendRequests: [RecordedRequest] { requests.filter { $0.path.hasSuffix("/messages/send") } }
    var listRequests: [RecordedRequest] { requests.filter { $0.path == "/gmail/v1/users/me/messages" } }
    var tokenRequests: [RecordedRequest] { requests.filter { $0.path == "/token" } }
    var sentMessages: [SentMessage] { state.withLockedValue { $0.sent } }
    /// Access tokens minted by the token endpoint, in order.
    var mintedTokens: [String] { state.withLockedValue { $0.mintedTokens } }

    // MARK: Lifecycle

    static func start() async throws -> FakeGoogle {
        let state = NIOLockedValueBox(State())
        state.withLockedValue { $0.validTokens = ["ya29.fake-static-access-token"] }
        let router = Router()
        router.post("/token") { request, _ in try await handle(request, state: state, endpoint: .token) }
        router.post("/gmail/v1/users/me/messages/send") { request, _ in try await handle(request, state: state, endpoint: .send) }
        router.post("/upload/gmail/v1/users/me/messages/send") { request, _ in try await handle(request, state: state, endpoint: .send) }
        router.get("/gmail/v1/users/me/messages") { request, _ in try await handle(request, state: state, endpoint: .list) }

        let server = try await LocalServer.start(router, name: "FakeGoogle")
        return FakeGoogle(port: server.port, state: state, server: server)
    }

    /// Stops the server; pending delayed replies are abandoned.
    func stop() async {
        state.withLockedValue { $0.stopped = true }
        await server.stop()
    }

    // MARK: Handling

    private enum Endpoint { case token, send, list }

    private static func handle(_ request: Request, state: NIOLockedValueBox<State>, endpoint: Endpoint) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let recorded = RecordedRequest(
            method: request.method.rawValue, path: request.uri.path, query: parseForm(request.uri.query ?? ""),
            headers: headers, body: String(buffer: body))
        let reply: Reply = state.withLockedValue { state in
            state.requests.append(recorded)
            switch endpoint {
            case .token: return state.tokenReplies.isEmpty ? .normal : state.tokenReplies.removeFirst()
            case .send: return state.sendReplies.isEmpty ? .normal : state.sendReplies.removeFirst()
            case .list: return state.listReplies.isEmpty ? .normal : state.listReplies.removeFirst()
            }
        }
        return try await respond(reply, to: recorded, state: state, endpoint: endpoint)
    }

    private static func respond(
        _ reply: Reply, to request: RecordedRequest, state: NIOLockedValueBox<State>, endpoint: Endpoint
    ) async throws -> Response {
        switch reply {
        case .status(let status, let body, let headers):
            var fields = HTTPFields()
            fields[.contentType] = "application/json; charset=UTF-8"
            for (name, value) in headers { if let name = HTTPField.Name(name) { fields[name] = value } }
            return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
        case .delayed(let delay, let next):
            // In small steps, so that stop() does not wait for a long scripted delay.
            let deadline = ContinuousClock.now + delay
            while ContinuousClock.now < deadline {
                if state.withLockedValue({ $0.stopped }) { throw HTTPError(.serviceUnavailable) }
                try? await Task.sleep(for: min(.milliseconds(20), deadline - ContinuousClock.now))
            }
            return try await respond(next, to: request, state: state, endpoint: endpoint)
        case .acceptedThen(let next):
            if endpoint == .send { _ = send(request, state: state) }
            return try await respond(next, to: request, state: state, endpoint: endpoint)
        case .normal:
            switch endpoint {
            case .token: return token(request, state: state)
            case .send: return send(request, state: state)
            case .list: return list(request, state: state)
            }
        }
    }

    private static func token(_ request: RecordedRequest, state: NIOLockedValueBox<State>) -> Response {
        let form = request.form
        guard request.headers["content-type"]?.hasPrefix("application/x-www-form-urlencoded") == true,
            form["grant_type"] == "refresh_token"
        else { return json(400, #"{"error":"unsupported_grant_type","error_description":"Invalid grant_type"}"#) }
        guard form["client_id"] == "fake-client.apps.googleusercontent.com", form["client_secret"] == "fake-client-secret" else {
            return json(401, #"{"error":"invalid_client","error_description":"The OAuth client was not found."}"#)
        }
        guard form["refresh_token"] == "1//fake-refresh-token" else {
            return json(400, #"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#)
        }
        let (token, lifetime) = state.withLockedValue { state in
            let token = "ya29.fake-minted-\(state.mintedTokens.count + 1)"
            state.mintedTokens.append(token)
            state.validTokens.insert(token)
            return (token, state.tokenLifetimeSeconds)
        }
        return json(200, #"{"access_token":"\#(token)","expires_in":\#(lifetime),"scope":"https://www.googleapis.com/auth/gmail.send","token_type":"Bearer"}"#)
    }

    private static func authorized(_ request: RecordedRequest, state: NIOLockedValueBox<State>) -> Bool {
        guard let token = request.bearerToken else { return false }
        return state.withLockedValue { $0.validTokens.contains(token) }
    }

    private static let unauthorized = json(
        401,
        #"{"error":{"code":401,"message":"Request had invalid authentication credentials.","errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError","location":"Authorization","locationType":"header"}],"status":"UNAUTHENTICATED"}}"#
    )

    private static func badRequest(_ message: String) -> Response {
        json(400, #"{"error":{"code":400,"message":"\#(message)","errors":[{"message":"\#(message)","domain":"global","reason":"invalidArgument"}],"status":"INVALID_ARGUMENT"}}"#)
    }

    private static func send(_ request: RecordedRequest, state: NIOLockedValueBox<State>) -> Response {
        guard authorized(request, state: state) else { return unauthorized }
        if request.path.hasPrefix("/upload/") { return upload(request, state: state) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body.utf8))) as? [String: Any],
            let encoded = object["raw"] as? String
        else { return badRequest("'raw' RFC822 payload message string or uploading message via /upload/* URL required") }
        // Gmail accepts base64url; padding is optional.
        guard encoded.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "_" || $0 == "=" }),
            let data = Data(base64Encoded: base64(fromURL: encoded)), let raw = String(data: data, encoding: .utf8)
        else { return badRequest("Invalid value for ByteString") }
        return accept(raw, request: request, state: state)
    }

    /// `uploadType=media`: the body is the message itself (`message/rfc822`), up to
    /// 35 MB, as Gmail's media upload takes it; its lines must be CRLF-terminated and
    /// within RFC 5322's 998 octets.
    private static func upload(_ request: RecordedRequest, state: NIOLockedValueBox<State>) -> Response {
        guard request.query["uploadType"] == "media" else { return badRequest("Invalid uploadType") }
        guard request.headers["content-type"] == "message/rfc822" else { return badRequest("Media type not supported") }
        guard request.body.utf8.count <= 35 << 20 else { return json(413, #"{"error":{"code":413,"message":"Request Too Large"}}"#) }
        for line in request.body.utf8.split(separator: 10, omittingEmptySubsequences: false).dropLast() {
            guard line.last == 13, line.count - 1 <= 998 else { return badRequest("Invalid RFC 5322 line") }
        }
        return accept(request.body, request: request, state: state)
    }

    private static func accept(_ raw: String, request: RecordedRequest, state: NIOLockedValueBox<State>) -> Response {
        let message: MIMEReader
        do { message = try MIMEReader(raw) } catch { return badRequest("Invalid RFC 5322 message: \(error)") }
        let recipients = (try? ["To", "Cc", "Bcc"].flatMap(message.addresses)) ?? []
        guard !recipients.isEmpty else { return badRequest("Recipient address required") }
        let messageID = message.rawHeader("Message-ID").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) }
        let sent = state.withLockedValue { state in
            let number = state.sent.count + 1
            let sent = SentMessage(
                id: "msg-\(number)", threadID: "thread-\(number)", raw: raw, message: message,
                accessToken: request.bearerToken ?? "", messageID: messageID)
            state.sent.append(sent)
            return sent
        }
        return json(200, #"{"id":"\#(sent.id)","threadId":"\#(sent.threadID)","labelIds":["SENT"]}"#)
    }

    private static func list(_ request: RecordedRequest, state: NIOLockedValueBox<State>) -> Response {
        guard authorized(request, state: state) else { return unauthorized }
        guard let q = request.query["q"], q.hasPrefix("rfc822msgid:") else {
            return badRequest("this fake only searches rfc822msgid:")
        }
        let wanted = q.dropFirst("rfc822msgid:".count).trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
        let found = state.withLockedValue { $0.sent.first { $0.messageID == wanted } }
        guard let found else { return json(200, #"{"resultSizeEstimate":0}"#) }
        return json(200, #"{"messages":[{"id":"\#(found.id)","threadId":"\#(found.threadID)"}],"resultSizeEstimate":1}"#)
    }

    private static func json(_ status: Int, _ body: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json; charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func base64(fromURL text: String) -> String {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return base64
    }

    /// `a=1&b=x%20y` (and `+` for space), as forms and query strings are written.
    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}

/// Runs `body` against a fresh FakeGoogle and always stops it.
func withFakeGoogle(_ body: (FakeGoogle) async throws -> Void) async throws {
    let google = try await FakeGoogle.start()
    do {
        try await body(google)
    } catch {
        await google.stop()
        throw error
    }
    await google.stop()
}
