import AsyncHTTPClient
import Foundation
import GateCore
import NIOCore
import NIOHTTP1

/// The two Slack Web API methods notifications use (`chat.postMessage`,
/// `chat.update`), with the deployment's bot token. Slack answers HTTP 200 with
/// `{"ok": false, "error": …}` for most failures; 429 carries Retry-After.
struct SlackClient: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let code: String
        /// Worth trying again later (rate limit, Slack down, network).
        let retryable: Bool
        let retryAfter: Duration?
        var description: String { "slack: \(code)" }
    }

    let settings: SlackSettings
    let httpClient: HTTPClient

    init(settings: SlackSettings, httpClient: HTTPClient = .shared) {
        self.settings = settings
        self.httpClient = httpClient
    }

    /// Posts `blocks` to `channel` (a member id opens their direct message with the app);
    /// returns the message's `channel ts`, which `update` needs.
    func postMessage(channel: String, text: String, blocks: JSONValue) async throws -> String {
        let answer = try await call("chat.postMessage", ["channel": .string(channel), "text": .string(text), "blocks": blocks])
        guard case .object(let object) = answer, case .string(let posted)? = object["channel"], case .string(let ts)? = object["ts"] else {
            throw Failure(code: "bad_response", retryable: true, retryAfter: nil)
        }
        return "\(posted) \(ts)"
    }

    func update(message: String, text: String, blocks: JSONValue) async throws {
        let parts = message.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw Failure(code: "unknown_message", retryable: false, retryAfter: nil) }
        _ = try await call("chat.update", ["channel": .string(parts[0]), "ts": .string(parts[1]), "text": .string(text), "blocks": blocks])
    }

    /// Tells the member who pressed a button, privately, why nothing was decided, through
    /// the interaction's `response_url`. Only a URL on Slack's hooks host (or this
    /// deployment's Slack API host, for a stand-in) is called: the URL comes in a
    /// request, and the server must not be made to post anywhere else.
    func respondPrivately(to responseURL: String, text: String) async {
        guard let url = URL(string: responseURL), url.scheme == "https" || url.host == URL(string: settings.apiURL)?.host,
              let host = url.host, host == "hooks.slack.com" || host == URL(string: settings.apiURL)?.host
        else { return }
        var request = HTTPClientRequest(url: responseURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        let body: JSONValue = ["response_type": "ephemeral", "replace_original": false, "text": .string(text)]
        request.body = .bytes(ByteBuffer(string: body.jsonText))
        _ = try? await httpClient.execute(request, deadline: .now() + .seconds(Int64(settings.timeoutSeconds)))
    }

    private func call(_ method: String, _ body: [String: JSONValue]) async throws -> JSONValue {
        var request = HTTPClientRequest(url: "\(settings.apiURL)/\(method)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(settings.botToken)")
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(string: JSONValue.object(body).jsonText))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await httpClient.execute(request, deadline: .now() + .seconds(Int64(settings.timeoutSeconds)))
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            if error is CancellationError { throw error }
            throw Failure(code: "unreachable", retryable: true, retryAfter: nil)
        }
        if response.status == .tooManyRequests {
            let wait = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds(min(max($0, 1), 3600)) }
            throw Failure(code: "rate_limited", retryable: true, retryAfter: wait)
        }
        guard response.status.code < 500 else { throw Failure(code: "http_\(response.status.code)", retryable: true, retryAfter: nil) }
        guard let answer = try? JSONValue(parsing: String(buffer: bytes)), case .object(let object) = answer else {
            throw Failure(code: "bad_response", retryable: true, retryAfter: nil)
        }
        guard case .bool(true)? = object["ok"] else {
            let code = (object["error"].flatMap { if case .string(let text) = $0 { text } else { nil } }) ?? "unknown_error"
            // Slack's own trouble is worth another try; a bad token or channel is not.
            let retryable = ["ratelimited", "service_unavailable", "internal_error", "fatal_error", "request_timeout"].contains(code)
            throw Failure(code: String(code.prefix(100)), retryable: retryable, retryAfter: nil)
        }
        return answer
    }
}

/// The deployment's Slack app (`SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET`); docs/operations.md "Slack".
struct SlackSettings: Sendable {
    var botToken: String
    var signingSecret: String
    var apiURL = "https://slack.com/api"
    var timeoutSeconds = 10
    /// How old an interaction's timestamp may be (Slack's own advice: five minutes).
    var timestampTolerance: TimeInterval = 300
}
