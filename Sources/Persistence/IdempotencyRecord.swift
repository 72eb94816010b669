import Foundation
import PostgresNIO

/// What is left of a job the history purge deleted while its Idempotency-Key was still
/// within IDEMPOTENCY_TTL_SECONDS (migration 0014): enough for a retry to be answered
/// without a second job being created.
public struct IdempotencyRecord: Sendable, Equatable {
    public var workspaceID: String
    public var idempotencyKey: String
    public var payloadHash: String
    public var jobID: String
    /// How the job ended (a terminal status: only those are purged).
    public var jobStatus: String
    /// Until when the key stays taken.
    public var expiresAt: Date

    /// The live record of `key` in `workspaceID`, if the purge left one.
    static func find(workspaceID: String, idempotencyKey: String, client: PostgresClient, logger: Logger) async throws
        -> IdempotencyRecord?
    {
        let rows = try await client.query(
            """
            SELECT workspace_id, idempotency_key, payload_hash, job_id, job_status, expires_at FROM idempotency_records
            WHERE workspace_id = \(workspaceID) AND idempotency_key = \(idempotencyKey) AND expires_at > now()
            """, logger: logger)
        for try await (workspace, key, hash, job, status, expires) in rows.decode((String, String, String, String, String, Date).self) {
            return IdempotencyRecord(
                workspaceID: workspace, idempotencyKey: key, payloadHash: hash, jobID: job, jobStatus: status, expiresAt: expires)
        }
        return nil
    }
}
