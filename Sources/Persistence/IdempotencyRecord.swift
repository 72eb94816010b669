import Foundation
import Gate
import PostgresNIO

extension IdempotencyRecord {
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
