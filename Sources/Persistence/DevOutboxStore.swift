import Foundation
import Logging
import PostgresNIO

/// A message the development outbox kept instead of sending (`dev_outbox`, migration 0020).
public struct OutboxMessage: Sendable, Equatable {
    /// The job's id for the job's own message; `ntf-<delivery>` for a notification.
    public let outboxID: String
    public let jobID: String
    public let workspaceID: String
    public let messageID: String
    public let recipients: [String]
    public let subject: String
    /// The RFC 5322 message, byte for byte what Gmail would have been given.
    public let raw: String
    public let createdAt: Date
}

/// `EMAIL_DELIVERY=outbox`: what `gmail.send` jobs would have sent (one message per
/// job) and the notifications about approvals (migration 0024).
public struct DevOutboxStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Keeps the message; false if it was kept by an earlier attempt (nothing changes
    /// then, as Gmail finds an already sent message by its id).
    public func keep(
        outboxID: String, jobID: String, workspaceID: String, messageID: String, recipients: [String], subject: String, raw: String
    ) async throws -> Bool {
        let rows = try await client.query(
            """
            INSERT INTO dev_outbox (outbox_id, job_id, workspace_id, message_id, recipients, subject, raw)
            VALUES (\(outboxID), \(jobID), \(workspaceID), \(messageID), \(recipients), \(subject), \(raw))
            ON CONFLICT (outbox_id) DO NOTHING RETURNING 1
            """, logger: logger)
        for try await _ in rows.decode(Int.self) { return true }
        return false
    }

    static let columns = "outbox_id, job_id, workspace_id, message_id, recipients, subject, raw, created_at"

    /// The workspace's newest messages first.
    public func list(workspaceID: String, limit: Int) async throws -> [OutboxMessage] {
        try await messages(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM dev_outbox WHERE workspace_id = \(workspaceID) ORDER BY created_at DESC, outbox_id LIMIT \(limit)",
                logger: logger))
    }

    public func find(workspaceID: String, outboxID: String) async throws -> OutboxMessage? {
        try await messages(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM dev_outbox WHERE workspace_id = \(workspaceID) AND outbox_id = \(outboxID)",
                logger: logger)
        ).first
    }

    private func messages(_ rows: PostgresRowSequence) async throws -> [OutboxMessage] {
        var messages: [OutboxMessage] = []
        for try await (outboxID, job, workspace, id, recipients, subject, raw, created) in rows.decode(
            (String, String, String, String, [String], String, String, Date).self)
        {
            messages.append(
                OutboxMessage(
                    outboxID: outboxID, jobID: job, workspaceID: workspace, messageID: id, recipients: recipients, subject: subject, raw: raw,
                    createdAt: created))
        }
        return messages
    }
}
