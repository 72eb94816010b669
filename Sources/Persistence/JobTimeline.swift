import Foundation
import Logging
import PostgresNIO

/// One webhook delivery of a job, as the console's job page lists them.
public struct WebhookDeliveryRecord: Sendable, Equatable {
    public let event: String
    public let url: String
    public let status: String
    public let attempts: Int
    public let lastError: String?
    public let createdAt: Date
    public let deliveredAt: Date?
}

extension WebhookStore {
    /// The job's deliveries, oldest first (the `webhook_deliveries_job` index).
    public func deliveries(workspaceID: String, jobID: String) async throws -> [WebhookDeliveryRecord] {
        let rows = try await client.query(
            """
            SELECT event, url, status, attempts, last_error, created_at, delivered_at FROM webhook_deliveries
            WHERE workspace_id = \(workspaceID) AND job_id = \(jobID) ORDER BY id LIMIT 200
            """, logger: logger)
        var deliveries: [WebhookDeliveryRecord] = []
        for try await (event, url, status, attempts, error, created, delivered) in rows.decode(
            (String, String, String, Int, String?, Date, Date?).self)
        {
            deliveries.append(
                WebhookDeliveryRecord(
                    event: event, url: url, status: status, attempts: attempts, lastError: error, createdAt: created, deliveredAt: delivered))
        }
        return deliveries
    }
}

extension AuditRecord {
    /// The record's fields as text, for pages that show events to people.
    public var text: (occurredAt: String, actor: String, action: String, target: String, outcome: String, details: String) {
        func string(_ buffer: ByteBuffer?) -> String { buffer.map { String(buffer: $0) } ?? "" }
        let actor = string(actorType) + (actorID.map { ":" + String(buffer: $0) } ?? "")
        let target = targetType.map { String(buffer: $0) + (targetID.map { " " + String(buffer: $0) } ?? "") } ?? ""
        return (string(occurredAt), actor, string(action), target, string(outcome), string(details))
    }
}

extension ApprovalStore {
    /// The approval that gates the job, if it had one.
    public func approvalID(workspaceID: String, jobID: String) async throws -> String? {
        let rows = try await client.query(
            "SELECT id FROM approvals WHERE workspace_id = \(workspaceID) AND job_id = \(jobID)", logger: logger)
        for try await id in rows.decode(String.self) { return id }
        return nil
    }
}
