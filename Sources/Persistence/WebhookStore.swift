import Foundation
import Logging
import PostgresNIO

public struct WebhookDelivery: Sendable, Equatable {
    public let id: Int64
    public let workspaceID: String
    public let jobID: String
    public let url: String
    public let event: String
    /// The exact JSON body that is signed and sent.
    public let body: String
    public let attempts: Int
}

/// The webhook outbox (`webhook_deliveries`), filled by a trigger on job status changes.
public struct WebhookStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Claims up to `limit` due deliveries: the attempt is counted and the row leased
    /// for `leaseSeconds`, so a replica that dies mid-delivery only delays it.
    public func claimDue(limit: Int, leaseSeconds: Int) async throws -> [WebhookDelivery] {
        let rows = try await client.query(
            """
            UPDATE webhook_deliveries SET attempts = attempts + 1,
                next_attempt_at = now() + make_interval(secs => \(leaseSeconds))
            WHERE id IN (
                SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id, workspace_id, job_id, url, event, payload::text, attempts
            """, logger: logger)
        var deliveries: [WebhookDelivery] = []
        for try await (id, workspace, job, url, event, body, attempts) in rows.decode(
            (Int64, String, String, String, String, String, Int).self)
        {
            deliveries.append(
                WebhookDelivery(id: id, workspaceID: workspace, jobID: job, url: url, event: event, body: body, attempts: attempts))
        }
        return deliveries
    }

    public func markDelivered(_ id: Int64) async throws {
        try await client.query(
            "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_error = NULL WHERE id = \(id)",
            logger: logger)
    }

    /// Schedules another attempt after `retryAfterSeconds`, or gives up (`failed`).
    public func markFailed(_ id: Int64, error: String, retryAfterSeconds: Double?) async throws {
        if let retryAfterSeconds {
            try await client.query(
                """
                UPDATE webhook_deliveries SET last_error = \(error),
                    next_attempt_at = now() + make_interval(secs => \(retryAfterSeconds))
                WHERE id = \(id)
                """, logger: logger)
        } else {
            try await client.query(
                "UPDATE webhook_deliveries SET status = 'failed', last_error = \(error) WHERE id = \(id)", logger: logger)
        }
    }
}
