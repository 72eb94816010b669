import Gate
import GateCore
import Auth
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// API keys in Postgres: lookup for authentication, and the admin operations, each
/// audited in the same transaction as its change.
public struct APIKeyStore: APIKeyLookup, KeyAdministrationStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = """
        id, workspace_id, name, scopes, secret_hash, previous_secret_hash, previous_secret_expires_at,
        created_by, acts_for, created_at, expires_at, revoked_at, rotated_at, last_used_at
        """

    public func find(id: String) async throws -> APIKeyRecord? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.columns) FROM api_keys WHERE id = \(id)", logger: logger)
        return try await Self.records(rows).first
    }

    public func touchLastUsed(id: String) async throws {
        try await client.query(
            """
            UPDATE api_keys SET last_used_at = now()
            WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
            """, logger: logger)
    }

    public func list(workspaceID: String, limit: Int, after cursor: String?) async throws -> [APIKeyRecord] {
        let rows: PostgresRowSequence
        if let cursor {
            rows = try await client.query(
                """
                SELECT \(unescaped: Self.columns) FROM api_keys
                WHERE workspace_id = \(workspaceID)
                  AND (created_at, id) > (SELECT created_at, id FROM api_keys WHERE id = \(cursor) AND workspace_id = \(workspaceID))
                ORDER BY created_at, id LIMIT \(limit)
                """, logger: logger)
        } else {
            rows = try await client.query(
                """
                SELECT \(unescaped: Self.columns) FROM api_keys WHERE workspace_id = \(workspaceID)
                ORDER BY created_at, id LIMIT \(limit)
                """, logger: logger)
        }
        return try await Self.records(rows)
    }

    /// Stores a key with its `key.created` row. Its creator chain is its creator, then
    /// the creating key's own chain.
    public func insert(_ key: NewAPIKey, actor: AuditActor) async throws -> APIKeyRecord {
        let scopeNames = key.scopes.map(\.rawValue).sorted()
        let createdBy = key.createdBy.qualifiedID
        let logger = self.logger
        do {
            return try await client.transaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO api_keys (id, workspace_id, name, scopes, secret_hash, created_by, acts_for, expires_at, creator_chain)
                    VALUES (\(key.secret.id), \(key.workspaceID), \(key.name), \(scopeNames), \(ByteBuffer(bytes: key.secret.hash)),
                            \(createdBy), \(key.actsFor), \(key.expiresAt),
                            \(createdBy)::text || coalesce((SELECT creator_chain FROM api_keys WHERE id = \(key.createdBy.keyID)), '{}'))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger)
                guard let record = try await Self.records(rows).first else { throw KeyAdministrationError.notFound }
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: key.workspaceID, actor: actor, action: "key.created", targetType: "api_key",
                        targetID: record.id,
                        details: [
                            "name": .string(key.name), "scopes": .array(scopeNames.map { .string($0) }),
                            "expires_at": key.expiresAt.map { .string($0.formatted(.iso8601)) } ?? .null,
                            "acts_for": key.actsFor.map { .string($0) } ?? .null,
                        ]),
                    on: connection, logger: logger)
                return record
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            throw KeyAdministrationError.unknownWorkspace
        }
    }

    public func record(_ event: AuditEvent) async throws {
        try await AuditLog.record(event, client: client, logger: logger)
    }

    /// Locks the key, applies `allowed`, and revokes or rotates it, each with its audit
    /// row (a refusal's row instead) in one transaction. A rotation keeps one previous
    /// secret, so a second rotation ends the first one's overlap, and revoking the key
    /// ends both.
    public func change(
        _ change: KeyChange, workspaceID: String, id: String, actor: AuditActor,
        allowed: @escaping @Sendable (APIKeyRecord) -> KeyRefusal?
    ) async throws -> APIKeyRecord {
        let logger = self.logger
        let outcome = try await client.transaction(logger: logger) { connection -> Result<APIKeyRecord, KeyRefusal> in
            let record = try await Self.lockedForChange(workspaceID: workspaceID, id: id, on: connection, logger: logger)
            if let refusal = allowed(record) {
                try await AuditLog.append(
                    AdministerKeys.refusalEvent(
                        refusal, action: change.auditAction + "_refused", workspace: workspaceID, keyID: id, actor: actor),
                    on: connection, logger: logger)
                return .failure(refusal)
            }
            switch change {
            case .revoke:
                guard record.revokedAt == nil else { return .success(record) }
                let rows = try await connection.query(
                    "UPDATE api_keys SET revoked_at = now() WHERE id = \(id) RETURNING \(unescaped: Self.columns)", logger: logger)
                guard let revoked = try await Self.records(rows).first else { throw KeyAdministrationError.notFound }
                try await AuditLog.append(
                    AuditEvent(workspaceID: workspaceID, actor: actor, action: "key.revoked", targetType: "api_key", targetID: id),
                    on: connection, logger: logger)
                return .success(revoked)
            case .rotate(let secret, let overlapSeconds, let administrator):
                guard record.revokedAt == nil else { throw KeyAdministrationError.revoked }
                let rows = try await connection.query(
                    """
                    UPDATE api_keys SET previous_secret_hash = secret_hash,
                        previous_secret_expires_at = least(now() + make_interval(secs => \(overlapSeconds)), expires_at),
                        secret_hash = \(ByteBuffer(bytes: secret.hash)), rotated_at = now(),
                        creator_chain = ARRAY(
                            SELECT DISTINCT unnest(creator_chain || \(administrator.qualifiedID)::text
                                || coalesce((SELECT creator_chain FROM api_keys WHERE id = \(administrator.keyID)), '{}')))
                    WHERE id = \(id)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger)
                guard let rotated = try await Self.records(rows).first else { throw KeyAdministrationError.notFound }
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: workspaceID, actor: actor, action: "key.rotated", targetType: "api_key", targetID: id,
                        details: ["overlap_seconds": .integer(overlapSeconds)]),
                    on: connection, logger: logger)
                return .success(rotated)
            }
        }
        return try outcome.mapError { KeyAdministrationError.refused($0) }.get()
    }

    /// The key, locked until the transaction ends; `notFound` outside its workspace.
    static func lockedForChange(workspaceID: String, id: String, on connection: PostgresConnection, logger: Logger)
        async throws -> APIKeyRecord
    {
        let rows = try await connection.query(
            "SELECT \(unescaped: columns) FROM api_keys WHERE id = \(id) AND workspace_id = \(workspaceID) FOR UPDATE",
            logger: logger)
        guard let record = try await records(rows).first else { throw KeyAdministrationError.notFound }
        return record
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [APIKeyRecord] {
        var records: [APIKeyRecord] = []
        for try await row in rows {
            let (
                id, workspaceID, name, scopes, secretHash, previousHash, previousExpires,
                createdBy, actsFor, createdAt, expiresAt, revokedAt, rotatedAt, lastUsedAt
            ) = try row.decode(
                (String, String, String, [String], ByteBuffer, ByteBuffer?, Date?,
                 String, String?, Date, Date?, Date?, Date?, Date?).self)
            records.append(
                APIKeyRecord(
                    id: id, workspaceID: workspaceID, name: name, scopes: Set(scopes.compactMap(Scope.init(rawValue:))),
                    secretHash: Array(secretHash.readableBytesView),
                    previousSecretHash: previousHash.map { Array($0.readableBytesView) }, previousSecretExpiresAt: previousExpires,
                    createdBy: createdBy, actsFor: actsFor, createdAt: createdAt, expiresAt: expiresAt,
                    revokedAt: revokedAt, rotatedAt: rotatedAt, lastUsedAt: lastUsedAt))
        }
        return records
    }
}
