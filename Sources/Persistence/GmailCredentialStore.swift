import Foundation
import Gate
import Logging
import PostgresNIO

public struct GmailCredentialStore: GmailCredentialStoring {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func find(workspaceID: String) async throws -> StoredGmailCredentials? {
        let rows = try await client.query(
            "SELECT kind, sealed, updated_by, updated_at FROM gmail_credentials WHERE workspace_id = \(workspaceID)",
            logger: logger)
        for try await (kind, sealed, updatedBy, updatedAt) in rows.decode((String, String, String, Date).self) {
            return StoredGmailCredentials(kind: kind, sealed: sealed, updatedBy: updatedBy, updatedAt: updatedAt)
        }
        return nil
    }

    /// Sets (or replaces) them, with a `credentials.updated` audit row that names the
    /// kind only.
    public func put(workspaceID: String, kind: String, sealed: String, actor: AuditActor) async throws -> StoredGmailCredentials {
        let event = AuditEvent(
            workspaceID: workspaceID, actor: actor, action: "credentials.updated", targetType: "gmail_credentials",
            targetID: workspaceID, details: ["kind": .string(kind)])
        let updatedBy = "\(actor.kind.rawValue):\(actor.id ?? "?")"
        let rows = try await client.query(
            """
            WITH saved AS (
                INSERT INTO gmail_credentials (workspace_id, kind, sealed, updated_by)
                VALUES (\(workspaceID), \(kind), \(sealed), \(updatedBy))
                ON CONFLICT (workspace_id) DO UPDATE
                    SET kind = EXCLUDED.kind, sealed = EXCLUDED.sealed, updated_by = EXCLUDED.updated_by, updated_at = now()
                RETURNING workspace_id, kind, sealed, updated_by, updated_at
            ), audit AS (
                \(auditFrom: "saved", targetIDColumn: "workspace_id", event: event)
            )
            SELECT kind, sealed, updated_by, updated_at FROM saved
            """, logger: logger)
        for try await (kind, sealed, updatedBy, updatedAt) in rows.decode((String, String, String, Date).self) {
            return StoredGmailCredentials(kind: kind, sealed: sealed, updatedBy: updatedBy, updatedAt: updatedAt)
        }
        throw GmailCredentialStoreError.notSaved
    }

    /// Removes them (audited); false if there were none.
    public func delete(workspaceID: String, actor: AuditActor) async throws -> Bool {
        let event = AuditEvent(
            workspaceID: workspaceID, actor: actor, action: "credentials.deleted", targetType: "gmail_credentials")
        let rows = try await client.query(
            """
            WITH gone AS (
                DELETE FROM gmail_credentials WHERE workspace_id = \(workspaceID) RETURNING workspace_id
            ), audit AS (
                \(auditFrom: "gone", targetIDColumn: "workspace_id", event: event)
            )
            SELECT count(*)::int FROM gone
            """, logger: logger)
        for try await (count) in rows.decode(Int.self) { return count == 1 }
        return false
    }
}

public enum GmailCredentialStoreError: Error {
    case notSaved
}
