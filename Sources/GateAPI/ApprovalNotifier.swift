import Actions
import Foundation
import Gate
import GateCore
import Logging
import NIOConcurrencyHelpers
import Persistence
import PostgresNIO
import Prometheus
import ServiceLifecycle

/// Reaching reviewers (issue 27), in every replica: fires due notices (an approval's
/// announcement, reminders, escalation — `SKIP LOCKED`, each once) and delivers the
/// messages they queued by email and Slack, retrying with backoff.
struct ApprovalNotifier: Service {
    let store: NotificationStore
    let links: DecideByLink
    let email: any EmailDelivery
    let slack: SlackClient?
    let settings: NotificationSettings
    let metrics: NotificationMetrics
    let logger: Logger

    /// Notices fired per transaction, and messages sent at once per replica.
    static let noticeBatch = 50
    static let deliveryBatch = 16

    func run() async throws {
        let counted = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
        try await runPeriodically(every: settings.pollInterval, logger: logger, task: "notifications") {
            try await pass()
            // The gauge is recounted as the pending-approvals one is (at most every 5 s),
            // not on every pass: a backlog makes the count as long as the backlog.
            let now = ContinuousClock.now
            if counted.withLockedValue({ $0.map { now - $0 < ApprovalExpirySweeper.countInterval } ?? false }) { return }
            metrics.pending.set(Int64(try await store.pendingCount()))
            counted.withLockedValue { $0 = now }
        }
    }

    func pass() async throws {
        var fired: Int
        repeat {
            fired = try await store.fireDueNotices(limit: Self.noticeBatch, slackConfigured: slack != nil, plan: NoticePlanner.plan)
            metrics.noticesFired.increment(by: fired)
        } while fired >= Self.noticeBatch
        var claimed: [DueDelivery]
        repeat {
            claimed = try await store.claimDueDeliveries(limit: Self.deliveryBatch, lease: settings.lease)
            await withTaskGroup(of: Void.self) { group in
                for delivery in claimed { group.addTask { await deliver(delivery) } }
            }
        } while claimed.count == Self.deliveryBatch
    }

    func deliver(_ delivery: DueDelivery) async {
        let channel = delivery.channel.rawValue
        do {
            if let skipped = Self.reasonToSkip(delivery, now: Date()) {
                try await store.markSkipped(id: delivery.id, reason: skipped)
                metrics.count(channel: channel, outcome: "skipped")
                return
            }
            let external: String?
            switch (delivery.kind, delivery.channel) {
            case (.decided, _):
                external = nil
                guard let slack, let messages = delivery.slackMessage else { break }
                let decided = NotificationMessage.decidedBlocks(delivery.approval, job: delivery.job)
                for message in messages.split(separator: "\n") {
                    try await slack.update(message: String(message), text: decided.text, blocks: decided.blocks)
                }
            case (_, .email):
                let message = NotificationMessage(delivery: delivery, links: try await makeLinks(for: delivery))
                guard let mail = message.email() else {
                    throw SlackClient.Failure(code: "invalid_address", retryable: false, retryAfter: nil)
                }
                external = try await email.sendNotification(mail, job: delivery.job, key: "ntf-\(delivery.id)", attempt: delivery.attempts)
            case (_, .slack):
                guard let slack else { throw SlackClient.Failure(code: "slack_not_configured", retryable: false, retryAfter: nil) }
                let message = NotificationMessage(delivery: delivery, links: try await makeLinks(for: delivery))
                external = try await slack.postMessage(channel: delivery.address, text: message.headline, blocks: message.slackBlocks())
            }
            try await store.markDelivered(id: delivery.id, externalID: external)
            metrics.count(channel: channel, outcome: "delivered")
        } catch {
            if error is CancellationError || Task.isCancelled { return }
            let (code, retryable, wait) = Self.classify(error)
            let retryAt = retryable && delivery.attempts < settings.maxAttempts
                ? Date().addingTimeInterval(max(wait ?? .zero, settings.backoff(after: delivery.attempts)).seconds) : nil
            logger.warning(
                "notification not delivered",
                metadata: ["delivery": "\(delivery.id)", "channel": "\(channel)", "error": "\(code)", "retry": "\(retryAt != nil)"])
            try? await store.markFailed(id: delivery.id, error: code, retryAt: retryAt)
            metrics.count(channel: channel, outcome: retryAt == nil ? "failed" : "retried")
        }
    }

    /// A message nobody needs any more is not sent: the approval was decided, expired or
    /// cancelled meanwhile, or the person has voted.
    static func reasonToSkip(_ delivery: DueDelivery, now: Date) -> String? {
        if delivery.kind == .decided { return delivery.approval.status == .pending ? "approval still pending" : nil }
        if delivery.approval.status != .pending { return "approval \(delivery.approval.status.rawValue)" }
        if delivery.approval.expiresAt <= now { return "approval expired" }
        if delivery.approval.votes.contains(where: { $0.reviewerPerson == delivery.person }) { return "already voted" }
        return nil
    }

    func makeLinks(for delivery: DueDelivery) async throws -> NotificationMessage.Links {
        let base = settings.publicURL
        let console = "\(base)/console/w/\(delivery.approval.workspaceID)/approvals/\(delivery.approval.id)"
        guard delivery.rules.decisionLinks else { return .init(console: console) }
        let approve = try await links.mint(
            for: delivery.approval, person: delivery.person, decision: .approve, lifetime: settings.linkLifetime, deliveryID: delivery.id)
        let reject = try await links.mint(
            for: delivery.approval, person: delivery.person, decision: .reject, lifetime: settings.linkLifetime, deliveryID: delivery.id)
        return .init(approve: "\(base)/decide/\(approve)", reject: "\(base)/decide/\(reject)", console: console)
    }

    static func classify(_ error: any Error) -> (code: String, retryable: Bool, wait: Duration?) {
        switch error {
        case let failure as SlackClient.Failure: return (failure.code, failure.retryable, failure.retryAfter)
        case let failure as ExecutionFailure: return (failure.code, failure.isRetryable, failure.retryAfter)
        case let error as PSQLError:
            // The server's message names the failing statement's problem; its detail
            // (which may quote values) is left out.
            return ("postgres: \(error.serverInfo?[.sqlState] ?? "") \(error.serverInfo?[.message] ?? "\(error.code)")", true, nil)
        default: return ("internal: \(String(describing: type(of: error)))", true, nil)
        }
    }
}

/// `gateapi_notifications_total{channel, outcome}` and the queue's gauge.
struct NotificationMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let noticesFired: Counter
    let pending: Gauge

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        noticesFired = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "approval_notices_fired", unitName: "total",
                helpText: "Approval announcements, reminders and escalations fired by this replica"))
        pending = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "notifications_pending", unitName: "", helpText: "Notification messages waiting to go"))
    }

    func count(channel: String, outcome: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "notifications", unitName: "total",
                helpText: "Notification messages by channel and outcome (delivered, retried, failed, skipped)"),
            labels: [("channel", channel), ("outcome", outcome)]
        ).increment()
    }
}

/// Notifications' settings (docs/operations.md "Notifications").
struct NotificationSettings: Sendable {
    /// Where links in messages point: `CONSOLE_PUBLIC_URL`, else this server.
    var publicURL: String
    var pollInterval: Duration = .seconds(1)
    var linkLifetime: Duration = .seconds(86400)
    var maxAttempts = 8
    var retryBase: Duration = .seconds(5)
    var lease: Duration = .seconds(120)
    var slack: SlackSettings?
    /// `NOTIFICATION_GMAIL_CREDENTIALS`: the deployment's own Gmail account, which sends
    /// the notification emails of workspaces that have no Gmail credentials of their own.
    var account: GoogleCredentials?

    /// Doubling from `retryBase`, at most an hour.
    func backoff(after attempts: Int) -> Duration {
        let seconds = Double(retryBase.components.seconds) * pow(2, Double(max(0, attempts - 1)))
        return .milliseconds(Int64(min(seconds, 3600) * 1000))
    }

    static func load(_ env: Environment, publicURL: String) throws(ConfigError) -> NotificationSettings {
        var settings = NotificationSettings(publicURL: publicURL)
        settings.pollInterval = .milliseconds(try env.int("NOTIFICATION_POLL_INTERVAL_MS", default: 1000, in: 10...60000))
        settings.linkLifetime = .seconds(try env.int("DECISION_LINK_TTL_SECONDS", default: 86400, in: 60...2_592_000))
        settings.maxAttempts = try env.int("NOTIFICATION_MAX_ATTEMPTS", default: 8, in: 1...50)
        settings.retryBase = .seconds(try env.int("NOTIFICATION_RETRY_BASE_SECONDS", default: 5, in: 1...3600))
        if let text = env.optional("NOTIFICATION_GMAIL_CREDENTIALS") {
            let parsed = (try? JSONValue(parsing: text)).map(GoogleCredentialsInput.parse)
            guard case .success(let account)? = parsed else {
                // The value is a secret: the problem says what is wrong, never what was given.
                let reasons = { () -> String in
                    if case .failure(let invalid)? = parsed { return invalid.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; ") }
                    return "it is not JSON"
                }()
                throw ConfigError(
                    variable: "NOTIFICATION_GMAIL_CREDENTIALS",
                    problem: "must be Gmail credentials as PUT …/gmail-credentials takes them (\(reasons))")
            }
            settings.account = account
        }
        let token = env.optional("SLACK_BOT_TOKEN")
        let secret = try env.secret("SLACK_SIGNING_SECRET", minimumBytes: 16)
        switch (token, secret) {
        case (nil, nil): break
        case (let token?, let secret?):
            var slack = SlackSettings(botToken: token, signingSecret: secret)
            if let url = env.optional("SLACK_API_URL") {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                    throw ConfigError(variable: "SLACK_API_URL", problem: "must be an http(s) URL such as https://slack.com/api")
                }
                slack.apiURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            }
            settings.slack = slack
        case (nil, _?): throw ConfigError(variable: "SLACK_BOT_TOKEN", problem: "is required with SLACK_SIGNING_SECRET")
        case (_?, nil): throw ConfigError(variable: "SLACK_SIGNING_SECRET", problem: "is required with SLACK_BOT_TOKEN")
        }
        return settings
    }
}
