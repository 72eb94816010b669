import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

/// Per-workspace webhook signing secrets (`webhook_secrets`, migration 0015). Every
/// change is audited in its transaction; the audit rows never hold the secret.
public struct WebhookSecretStore: WebhookSecretStoring {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = "id, workspace_id, sealed, created_by, created_at, expires_at"

    /// Makes `sealed` the current secret. The previous current one keeps signing for
    /// `overlapSeconds` (0: not at all); older ones stop now, so at most two sign.
    public func rotate(workspaceID: String, id: String, sealed: String, overlapSeconds: Int, createdBy: String, actor: AuditActor)
        async throws -> StoredWebhookSecret
    {
        let logger = self.logger
        do {
            return try await rotate(workspaceID: workspaceID, id: id, sealed: sealed, overlapSeconds: overlapSeconds, createdBy: createdBy, actor: actor, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            throw WebhookSecretRefusal.unknownWorkspace
        }
    }

    private func rotate(
        workspaceID: String, id: String, sealed: String, overlapSeconds: Int, createdBy: String, actor: AuditActor, logger: Logger
    ) async throws -> StoredWebhookSecret {
        try await client.transaction(logger: logger) { connection in
            // Serializes two rotations of one workspace (the unique index would make
            // the second one fail instead).
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('webhook_secrets:' || \(workspaceID)))", logger: logger)
            try await connection.query(
                """
                UPDATE webhook_secrets SET expires_at = CASE WHEN expires_at IS NULL
                    THEN now() + make_interval(secs => \(overlapSeconds)) ELSE LEAST(expires_at, now()) END
                WHERE workspace_id = \(workspaceID) AND (expires_at IS NULL OR expires_at > now())
                """, logger: logger)
            let rows = try await connection.query(
                """
                INSERT INTO webhook_secrets (id, workspace_id, sealed, created_by)
                VALUES (\(id), \(workspaceID), \(sealed), \(createdBy))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let created = try await Self.records(rows).first else { throw WebhookSecretRefusal.notFound }
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: workspaceID, actor: actor, action: "webhook_secret.rotated", targetType: "webhook_secret",
                    targetID: id, details: ["overlap_seconds": .integer(overlapSeconds)]),
                on: connection, logger: logger)
            return created
        }
    }

    /// The secrets that sign now (current first), and those whose overlap ended within
    /// the last day, newest first.
    public func list(workspaceID: String) async throws -> [StoredWebhookSecret] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM webhook_secrets
            WHERE workspace_id = \(workspaceID) AND (expires_at IS NULL OR expires_at > now() - interval '1 day')
            ORDER BY created_at DESC, id LIMIT 100
            """, logger: logger)
        return try await Self.records(rows)
    }

    /// Stops a secret signing at once (a leaked secret, or an overlap ended early).
    /// Revoking one that no longer signs changes nothing and is not audited again.
    public func revoke(workspaceID: String, id: String, actor: AuditActor) async throws {
        let logger = self.logger
        try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE webhook_secrets SET expires_at = now()
                WHERE id = \(id) AND workspace_id = \(workspaceID) AND (expires_at IS NULL OR expires_at > now())
                RETURNING id
                """, logger: logger)
            var revoked = false
            for try await _ in rows { revoked = true }
            if revoked {
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: workspaceID, actor: actor, action: "webhook_secret.revoked", targetType: "webhook_secret",
                        targetID: id),
                    on: connection, logger: logger)
                return
            }
            let existing = try await connection.query(
                "SELECT id FROM webhook_secrets WHERE id = \(id) AND workspace_id = \(workspaceID)", logger: logger)
            for try await _ in existing { return }
            throw WebhookSecretRefusal.notFound
        }
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [StoredWebhookSecret] {
        var records: [StoredWebhookSecret] = []
        for try await (id, workspace, sealed, createdBy, createdAt, expiresAt) in rows.decode(
            (String, String, String, String, Date, Date?).self)
        {
            records.append(
                StoredWebhookSecret(
                    id: id, workspaceID: workspace, sealed: sealed, createdBy: createdBy, createdAt: createdAt, expiresAt: expiresAt))
        }
        return records
    }
}
