import Foundation
import Gate
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
    /// The workspace's webhook secrets that sign this attempt (sealed), current first.
    public let sealedSecrets: [String]

    public init(
        id: Int64, workspaceID: String, jobID: String, url: String, event: String, body: String, attempts: Int,
        sealedSecrets: [String]
    ) {
        (self.id, self.workspaceID, self.jobID, self.url, self.event, self.body) = (id, workspaceID, jobID, url, event, body)
        (self.attempts, self.sealedSecrets) = (attempts, sealedSecrets)
    }
}

/// The webhook outbox (`webhook_deliveries`), filled by a trigger on job status changes.
public struct WebhookStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Up to `limit` due deliveries to choose from (not claimed: see `claim`), oldest
    /// first, none of the workspaces in `excluding` (those with no free delivery slot
    /// in this replica, so one workspace's backlog cannot take every candidate).
    public func dueCandidates(limit: Int, excluding: [String]) async throws -> [(id: Int64, workspaceID: String)] {
        let rows = try await client.query(
            """
            SELECT id, workspace_id FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= now() AND workspace_id <> ALL(\(excluding)::text[])
            ORDER BY next_attempt_at LIMIT \(limit)
            """, logger: logger)
        var candidates: [(id: Int64, workspaceID: String)] = []
        for try await (id, workspace) in rows.decode((Int64, String).self) { candidates.append((id, workspace)) }
        return candidates
    }

    /// Claims those of `ids` still due: the attempt is counted and the row leased for
    /// `leaseSeconds`, so a replica that dies mid-delivery only delays it. A row another
    /// replica claimed first is no longer due when this statement gets its lock, and is
    /// left out. Each comes with the sealed webhook secrets of its workspace that sign
    /// now, current first.
    public func claim(ids: [Int64], leaseSeconds: Int) async throws -> [WebhookDelivery] {
        let rows = try await client.query(
            """
            UPDATE webhook_deliveries d SET attempts = attempts + 1,
                next_attempt_at = now() + make_interval(secs => \(leaseSeconds))
            WHERE id = ANY(\(ids)::int8[]) AND status = 'pending' AND next_attempt_at <= now()
            RETURNING id, workspace_id, job_id, url, event, payload::text, attempts,
                ARRAY(SELECT s.sealed FROM webhook_secrets s
                      WHERE s.workspace_id = d.workspace_id AND (s.expires_at IS NULL OR s.expires_at > now())
                      ORDER BY s.expires_at DESC NULLS FIRST, s.created_at DESC)
            """, logger: logger)
        var deliveries: [WebhookDelivery] = []
        for try await (id, workspace, job, url, event, body, attempts, secrets) in rows.decode(
            (Int64, String, String, String, String, String, Int, [String]).self)
        {
            deliveries.append(
                WebhookDelivery(
                    id: id, workspaceID: workspace, jobID: job, url: url, event: event, body: body, attempts: attempts,
                    sealedSecrets: secrets))
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
