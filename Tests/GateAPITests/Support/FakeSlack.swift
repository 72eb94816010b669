import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// A real HTTP server on 127.0.0.1 standing in for Slack's Web API (`chat.postMessage`,
/// `chat.update` under `/api`): it checks the bot token, records every message, and can
/// be told to fail the next calls. `interaction` builds the signed callback Slack sends
/// when a member presses a button (`X-Slack-Signature`, `X-Slack-Request-Timestamp`).
final class FakeSlack: Sendable {
    static let botToken = "xoxb-test-bot-token"
    static let signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

    struct Call: @unchecked Sendable {
        let method: String
        let authorization: String?
        let body: [String: Any]
        var channel: String? { body["channel"] as? String }
        var ts: String? { body["ts"] as? String }
        var text: String? { body["text"] as? String }
        /// Every button of the message: action id → value (or url).
        var buttons: [String: String] {
            var found: [String: String] = [:]
            for block in body["blocks"] as? [[String: Any]] ?? [] {
                for element in block["elements"] as? [[String: Any]] ?? [] {
                    if let id = element["action_id"] as? String { found[id] = (element["value"] ?? element["url"]) as? String }
                }
            }
            return found
        }
    }

    private struct State: @unchecked Sendable {
        var calls: [Call] = []
        var failures: [String] = []
        var posted = 0
    }

    let port: Int
    var apiURL: String { "http://127.0.0.1:\(port)/api" }
    private let state: NIOLockedValueBox<State>
    private let server: LocalServer

    private init(port: Int, state: NIOLockedValueBox<State>, server: LocalServer) {
        self.port = port
        self.state = state
        self.server = server
    }

    var calls: [Call] { state.withLockedValue { $0.calls } }
    var posted: [Call] { calls.filter { $0.method == "chat.postMessage" } }
    var updated: [Call] { calls.filter { $0.method == "chat.update" } }
    /// What was posted to interactions' `response_url`s (private answers to a member).
    var responses: [Call] { calls.filter { $0.method == "response_url" } }
    var responseURL: String { "http://127.0.0.1:\(port)/actions/T0001/1/abc" }

    /// The next calls answer `{"ok": false, "error": code}` (e.g. `ratelimited`).
    func failNext(_ codes: [String]) { state.withLockedValue { $0.failures += codes } }

    /// The environment a GateAPI needs to use this Slack.
    var environment: [String: String] {
        ["SLACK_BOT_TOKEN": Self.botToken, "SLACK_SIGNING_SECRET": Self.signingSecret, "SLACK_API_URL": apiURL]
    }

    /// Slack's interaction callback for `user` pressing the button `actionID` with `value`:
    /// the form body and its signature headers (signed with `secret` at `timestamp`).
    static func interaction(
        user: String, actionID: String = "approve", value: String, secret: String = signingSecret, timestamp: Date = Date(),
        responseURL: String = "https://hooks.slack.com/actions/T0001/1/abc"
    ) -> (body: String, headers: HTTPFields) {
        let payload: [String: Any] = [
            "type": "block_actions", "user": ["id": user, "username": user, "team_id": "T0001"],
            "actions": [["action_id": actionID, "block_id": "approval", "type": "button", "value": value]],
            "response_url": responseURL,
        ]
        let json = String(decoding: try! JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
        let body = "payload=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let ts = String(Int(timestamp.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(for: Array("v0:\(ts):\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[HTTPField.Name("X-Slack-Request-Timestamp")!] = ts
        headers[HTTPField.Name("X-Slack-Signature")!] = "v0=" + mac.map { String(format: "%02x", $0) }.joined()
        return (body, headers)
    }

    static func start() async throws -> FakeSlack {
        let state = NIOLockedValueBox(State())
        let router = Router()
        router.post("/actions/**") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            state.withLockedValue { $0.calls.append(Call(method: "response_url", authorization: nil, body: json)) }
            return Response(status: .ok)
        }
        router.post("/api/{method}") { request, context in
            let method = try context.parameters.require("method")
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            let authorization = request.headers[.authorization]
            let answer: String = state.withLockedValue { state in
                state.calls.append(Call(method: method, authorization: authorization, body: json))
                guard authorization == "Bearer \(botToken)" else { return #"{"ok":false,"error":"invalid_auth"}"# }
                if !state.failures.isEmpty { return #"{"ok":false,"error":"\#(state.failures.removeFirst())"}"# }
                switch method {
                case "chat.postMessage":
                    state.posted += 1
                    return #"{"ok":true,"channel":"D\#(json["channel"] as? String ?? "")","ts":"1700000000.\#(String(format: "%06d", state.posted))"}"#
                case "chat.update":
                    return #"{"ok":true,"channel":"\#(json["channel"] as? String ?? "")","ts":"\#(json["ts"] as? String ?? "")"}"#
                default:
                    return #"{"ok":false,"error":"unknown_method"}"#
                }
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        let server = try await LocalServer.start(router, name: "FakeSlack")
        return FakeSlack(port: server.port, state: state, server: server)
    }

    func stop() async { await server.stop() }
}

func withFakeSlack(_ body: (FakeSlack) async throws -> Void) async throws {
    let slack = try await FakeSlack.start()
    do {
        try await body(slack)
    } catch {
        await slack.stop()
        throw error
    }
    await slack.stop()
}
