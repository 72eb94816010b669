import Auth
import Crypto
import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird
import Logging
import Prometheus

/// `POST /slack/interactions`: Slack's callback when a reviewer presses Approve in a
/// notification (issue 27). Trusted only when signed with the app's signing secret
/// (`X-Slack-Signature` over `v0:<timestamp>:<body>`, the timestamp within five
/// minutes); the button's value is the reviewer's decision link, and the Slack member
/// who pressed it must be that reviewer's in the directory. A replayed callback finds
/// its link used and decides nothing.
struct SlackInteractionsController: Sendable {
    let settings: SlackSettings
    let slack: SlackClient
    let decide: DecideByLink
    let metrics: NotificationMetrics
    let logger: Logger

    /// Slack's interaction payloads are a few kilobytes.
    static let maxBodyBytes = 64 * 1024

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("slack/interactions", use: interaction)
    }

    @Sendable func interaction(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw Problem(.contentTooLarge, detail: "Slack interaction payloads are at most 64 KiB.")
        }
        let raw = String(buffer: body)
        guard Self.verify(
            body: raw, timestamp: request.headers[HTTPField.Name("X-Slack-Request-Timestamp")!],
            signature: request.headers[HTTPField.Name("X-Slack-Signature")!], secret: settings.signingSecret,
            tolerance: settings.timestampTolerance, now: Date())
        else {
            metrics.slackCallbacks(outcome: "unsigned")
            logger.warning("slack interaction refused: bad or stale signature", metadata: ["ip": "\(context.remoteIP ?? "?")"])
            throw Problem(.unauthorized, detail: "The request is not signed by Slack with this app's signing secret, or it is stale.")
        }
        guard let payloadText = ConsoleForm.parse(raw).first(where: { $0.0 == "payload" })?.1,
              let payload = try? JSONValue(parsing: payloadText), case .object(let object) = payload,
              case .object(let user)? = object["user"], case .string(let slackUser)? = user["id"]
        else {
            throw Problem(.badRequest, detail: "Expected a form field `payload` holding Slack's interaction JSON.")
        }
        // Only Approve carries a link token; Reject and Open in console are URL buttons,
        // whose callbacks Slack sends too and which need no answer.
        guard case .string("block_actions")? = object["type"], case .array(let actions)? = object["actions"],
              case .object(let action)? = actions.first, case .string("approve")? = action["action_id"],
              case .string(let link)? = action["value"]
        else {
            metrics.slackCallbacks(outcome: "ignored")
            return Response(status: .ok)
        }
        let token = link.split(separator: "/").last.map(String.init) ?? ""
        let actor = AuditActor(kind: .user, id: nil, ip: context.remoteIP, requestID: context.requestID)
        let outcome: String
        var explanation: String?
        switch try await decide.confirm(token, comment: nil, reasonCode: nil, slackUser: slackUser, channel: "slack", actor: actor) {
        case .refused(let refusal, _):
            outcome = "refused_\(refusal.rawValue)"
            explanation = DecisionLinkController.refusalPage(refusal).detail
        case .voted(.refused(let refusal, let approval), _):
            outcome = "refused_vote"
            explanation = ConsoleViews.explain(refusal, approval: approval)
        case .voted(.repeated, _): outcome = "repeated"
        case .voted(.changed, _): outcome = "decided"
        }
        metrics.slackCallbacks(outcome: outcome)
        // A decision shows in the message itself once it is updated; a refusal is told
        // to the member who pressed, after Slack has its answer (it wants one in 3 s).
        if let explanation, case .string(let responseURL)? = object["response_url"] {
            let slack = self.slack
            Task { await slack.respondPrivately(to: responseURL, text: "Nothing was decided: \(explanation)") }
        }
        return Response(status: .ok)
    }

    /// Slack's request signing: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`,
    /// compared in constant time; a timestamp off by more than `tolerance` is refused
    /// (a captured request cannot be replayed later).
    static func verify(body: String, timestamp: String?, signature: String?, secret: String, tolerance: TimeInterval, now: Date) -> Bool {
        guard let timestamp, let seconds = Double(timestamp), abs(now.timeIntervalSince1970 - seconds) <= tolerance,
              let signature, signature.hasPrefix("v0=")
        else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("v0:\(timestamp):\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        let expected = "v0=" + mac.map { String(format: "%02x", $0) }.joined()
        return constantTimeEquals(Array(expected.utf8), Array(signature.utf8))
    }
}

extension NotificationMetrics {
    /// `gateapi_slack_interactions_total{outcome}`.
    func slackCallbacks(outcome: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "slack_interactions", unitName: "total",
                helpText: "Slack button callbacks by outcome (decided, repeated, refused_*, unsigned, ignored)"),
            labels: [("outcome", outcome)]
        ).increment()
    }
}
