import Approvals
import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

/// `approval_notices` and `notification_deliveries` (migration 0024): the durable
/// timers of approvals and the messages they queue, shared by every replica.
public struct NotificationStore: NotificationStoring {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func fireDueNotices(limit: Int, slackConfigured: Bool, plan: @Sendable (NoticeContext) -> NoticePlan) async throws -> Int {
        let logger = self.logger
        var fired = 0
        fired += try await client.transaction(logger: logger) { connection in
            var notices: [(id: Int64, workspace: String, approval: String, kind: NoticeKind)] = []
            for try await (id, workspace, approval, kind) in try await connection.query(
                """
                SELECT id, workspace_id, approval_id, kind FROM approval_notices
                WHERE done_at IS NULL AND due_at <= now() ORDER BY due_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: logger
            ).decode((Int64, String, String, String).self) {
                notices.append((id, workspace, approval, NoticeKind(rawValue: kind) ?? .requested))
            }
            for notice in notices {
                if let context = try await Self.context(
                    of: notice.kind, workspaceID: notice.workspace, approvalID: notice.approval, slackConfigured: slackConfigured,
                    on: connection, logger: logger)
                {
                    try await Self.queue(plan(context), notice: notice.id, approval: context.approval, on: connection, logger: logger)
                }
                try await connection.query("UPDATE approval_notices SET done_at = now() WHERE id = \(notice.id)", logger: logger)
            }
            return notices.count
        }
        return fired
    }

    static func context(
        of kind: NoticeKind, workspaceID: String, approvalID: String, slackConfigured: Bool, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> NoticeContext? {
        guard let ballot = try await ApprovalStore.ballot(workspaceID: workspaceID, id: approvalID, on: connection, logger: logger) else {
            return nil
        }
        let approval = ballot.approval
        var submitters = Set<String>()
        if let person = ballot.submitterPerson { submitters.insert(person) }
        for principal in [ballot.submitter] + ballot.submitterCreators where principal.hasPrefix("user:") {
            submitters.insert(String(principal.dropFirst("user:".count)))
        }
        let rules = try await rules(workspaceID: workspaceID, action: approval.action, on: connection, logger: logger)
        let directory = try await ReviewerDirectoryStore.entries(
            connection.query(
                "SELECT \(unescaped: ReviewerDirectoryStore.columns) FROM reviewers WHERE workspace_id = \(workspaceID) ORDER BY person",
                logger: logger))
        var slackMessaged: [(person: String, address: String)] = []
        if kind == .decided {
            for try await (person, address) in try await connection.query(
                """
                SELECT DISTINCT ON (d.person) d.person, d.address FROM notification_deliveries d
                JOIN approval_notices n ON n.id = d.notice_id
                WHERE d.workspace_id = \(workspaceID) AND d.approval_id = \(approvalID) AND d.channel = 'slack'
                  AND d.status = 'delivered' AND n.kind <> 'decided'
                ORDER BY d.person, d.id
                """, logger: logger
            ).decode((String, String).self) {
                slackMessaged.append((person, address))
            }
        }
        return NoticeContext(
            kind: kind, approval: approval, submitters: submitters, rules: rules, directory: directory, slackMessaged: slackMessaged,
            slackConfigured: slackConfigured, now: ballot.now)
    }

    static func queue(_ plan: NoticePlan, notice: Int64, approval: ApprovalRecord, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        if !plan.deliveries.isEmpty {
            try await connection.query(
                """
                INSERT INTO notification_deliveries (notice_id, workspace_id, approval_id, person, channel, address)
                SELECT \(notice), \(approval.workspaceID), \(approval.id), person, channel, address
                FROM unnest(\(plan.deliveries.map(\.person))::text[], \(plan.deliveries.map(\.channel.rawValue))::text[],
                            \(plan.deliveries.map(\.address))::text[]) AS d(person, channel, address)
                ON CONFLICT (notice_id, person, channel) DO NOTHING
                """, logger: logger)
        }
        if !plan.timers.isEmpty {
            try await connection.query(
                """
                INSERT INTO approval_notices (workspace_id, approval_id, kind, seq, due_at)
                SELECT \(approval.workspaceID), \(approval.id), kind, seq, due_at
                FROM unnest(\(plan.timers.map(\.kind.rawValue))::text[], \(plan.timers.map(\.seq))::int[],
                            \(plan.timers.map(\.dueAt))::timestamptz[]) AS t(kind, seq, due_at)
                ON CONFLICT (approval_id, kind, seq) DO NOTHING
                """, logger: logger)
        }
        if plan.announceToAgent {
            // The agent's webhook hears of the approval as it hears of status changes
            // (migration 0005), signed by the same deliverer.
            try await connection.query(
                """
                INSERT INTO webhook_deliveries (workspace_id, job_id, url, event, payload)
                SELECT j.workspace_id, j.id, j.callback_url, 'approval.requested',
                    jsonb_build_object(
                        'event', 'approval.requested',
                        'approval', jsonb_build_object(
                            'id', a.id, 'job_id', a.job_id, 'workspace', a.workspace_id, 'action', a.action,
                            'status', a.status, 'payload_hash', a.payload_hash, 'required_approvals', a.required_approvals,
                            'expires_at', to_char(a.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                            'created_at', to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
                FROM approvals a JOIN jobs j ON j.id = a.job_id
                WHERE a.id = \(approval.id) AND j.callback_url IS NOT NULL
                """, logger: logger)
        }
    }

    public func claimDueDeliveries(limit: Int, lease: Duration) async throws -> [DueDelivery] {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            var claimed: [(Int64, String, String, String, String, String, Int, String)] = []
            for try await row in try await connection.query(
                """
                UPDATE notification_deliveries d
                SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => \(Double(lease.components.seconds)))
                FROM approval_notices n
                WHERE n.id = d.notice_id AND d.id IN (
                    SELECT id FROM notification_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING d.id, n.kind, d.person, d.channel, d.address, d.workspace_id, d.attempts, d.approval_id
                """, logger: logger
            ).decode((Int64, String, String, String, String, String, Int, String).self) {
                claimed.append(row)
            }
            var due: [DueDelivery] = []
            // An approval's messages are claimed together (one to each reviewer, on each
            // channel): its approval, job and rules are read once for all of them.
            var approvals: [String: (ApprovalRecord, JobRecord, NotificationRules)?] = [:]
            for (id, kind, person, channel, address, workspace, attempts, approvalID) in claimed {
                if approvals[approvalID] == nil {
                    approvals[approvalID] = try await Self.approvalWithJob(
                        workspaceID: workspace, approvalID: approvalID, on: connection, logger: logger)
                }
                guard let (approval, job, rules) = approvals[approvalID] ?? nil else { continue }
                var displayName: String?
                for try await (name) in try await connection.query(
                    "SELECT display_name FROM reviewers WHERE workspace_id = \(workspace) AND person = \(person)", logger: logger
                ).decode(String?.self) {
                    displayName = name
                }
                var slackMessage: String?
                if kind == NoticeKind.decided.rawValue {
                    for try await (external) in try await connection.query(
                        """
                        SELECT d.external_id FROM notification_deliveries d JOIN approval_notices n ON n.id = d.notice_id
                        WHERE d.workspace_id = \(workspace) AND d.approval_id = \(approvalID) AND d.person = \(person)
                          AND d.channel = 'slack' AND d.status = 'delivered' AND n.kind <> 'decided' AND d.external_id IS NOT NULL
                        ORDER BY d.id
                        """, logger: logger
                    ).decode(String.self) {
                        slackMessage = slackMessage.map { $0 + "\n" + external } ?? external
                    }
                }
                due.append(
                    DueDelivery(
                        id: id, kind: NoticeKind(rawValue: kind) ?? .requested, person: person,
                        channel: NotificationRules.Channel(rawValue: channel) ?? .email, address: address, attempts: attempts,
                        approval: approval, job: job, rules: rules, displayName: displayName, slackMessage: slackMessage))
            }
            return due
        }
    }

    /// An approval with its votes, its job and its policy's notification rules; nil if
    /// the approval is gone (purged with its job).
    static func approvalWithJob(workspaceID: String, approvalID: String, on connection: PostgresConnection, logger: Logger)
        async throws -> (ApprovalRecord, JobRecord, NotificationRules)?
    {
        guard let ballot = try await ApprovalStore.ballot(workspaceID: workspaceID, id: approvalID, on: connection, logger: logger),
              let job = try await JobStore.records(
                connection.query("SELECT \(unescaped: JobStore.columns) FROM jobs WHERE id = \(ballot.approval.jobID)", logger: logger)
              ).first
        else { return nil }
        return (ballot.approval, job, try await rules(workspaceID: workspaceID, action: job.action, on: connection, logger: logger))
    }

    static func rules(workspaceID: String, action: String, on connection: PostgresConnection, logger: Logger) async throws
        -> NotificationRules
    {
        for try await (text) in try await connection.query(
            "SELECT notifications::text FROM policies WHERE workspace_id = \(workspaceID) AND action = \(action)", logger: logger
        ).decode(String.self) {
            return NotificationRules.stored((try? JSONValue(parsing: text)) ?? .null)
        }
        return NotificationRules()
    }

    public func markDelivered(id: Int64, externalID: String?) async throws {
        try await client.query(
            """
            UPDATE notification_deliveries SET status = 'delivered', delivered_at = now(), external_id = \(externalID), last_error = NULL
            WHERE id = \(id) AND status = 'pending'
            """, logger: logger)
    }

    public func markFailed(id: Int64, error: String, retryAt: Date?) async throws {
        let message = String(error.prefix(500))
        if let retryAt {
            try await client.query(
                "UPDATE notification_deliveries SET last_error = \(message), next_attempt_at = \(retryAt) WHERE id = \(id) AND status = 'pending'",
                logger: logger)
        } else {
            try await client.query(
                "UPDATE notification_deliveries SET status = 'failed', last_error = \(message) WHERE id = \(id) AND status = 'pending'",
                logger: logger)
        }
    }

    public func markSkipped(id: Int64, reason: String) async throws {
        try await client.query(
            "UPDATE notification_deliveries SET status = 'skipped', last_error = \(reason) WHERE id = \(id) AND status = 'pending'",
            logger: logger)
    }

    public func deliveries(workspaceID: String, approvalID: String) async throws -> [DeliveryRecord] {
        var records: [DeliveryRecord] = []
        for try await (id, kind, person, channel, address, status, attempts, error, created, delivered) in try await client.query(
            """
            SELECT d.id, n.kind, d.person, d.channel, d.address, d.status, d.attempts, d.last_error, d.created_at, d.delivered_at
            FROM notification_deliveries d JOIN approval_notices n ON n.id = d.notice_id
            WHERE d.workspace_id = \(workspaceID) AND d.approval_id = \(approvalID) ORDER BY d.id
            """, logger: logger
        ).decode((Int64, String, String, String, String, String, Int, String?, Date, Date?).self) {
            records.append(
                DeliveryRecord(
                    id: id, kind: NoticeKind(rawValue: kind) ?? .requested, person: person,
                    channel: NotificationRules.Channel(rawValue: channel) ?? .email, address: address, status: status,
                    attempts: attempts, lastError: error, createdAt: created, deliveredAt: delivered))
        }
        return records
    }

    /// How many messages wait to go (the pending-notifications gauge; a partial index).
    public func pendingCount() async throws -> Int {
        for try await (pending) in try await client.query(
            "SELECT count(*)::int FROM notification_deliveries WHERE status = 'pending'", logger: logger
        ).decode(Int.self) {
            return pending
        }
        return 0
    }
}
