import GateCore
import Auth
import Foundation
import Logging
import NIOCore
import PostgresNIO

public enum APIKeyStoreError: Error, Equatable {
    case notFound
    case revoked
    case unknownWorkspace
}

/// API keys in Postgres: lookup for authentication, and the admin operations, each
/// audited in the same transaction as its change.
public struct APIKeyStore: APIKeyLookup {
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

    /// Creates a key and returns it with its one-time secret.
    public func create(
        workspaceID: String, name: String, scopes: Set<Scope>, expiresAt: Date?, createdBy: String, actsFor: String?,
        actor: AuditActor
    ) async throws -> (APIKeyRecord, APIKeyToken) {
        let token = APIKeyToken.generate()
        let scopeNames = scopes.map(\.rawValue).sorted()
        let logger = self.logger
        do {
            return try await client.transaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO api_keys (id, workspace_id, name, scopes, secret_hash, created_by, acts_for, expires_at)
                    VALUES (\(token.id), \(workspaceID), \(name), \(scopeNames), \(ByteBuffer(bytes: token.hash)), \(createdBy), \(actsFor), \(expiresAt))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger)
                guard let record = try await Self.records(rows).first else { throw APIKeyStoreError.notFound }
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: workspaceID, actor: actor, action: "key.created", targetType: "api_key",
                        targetID: record.id,
                        details: [
                            "name": .string(name), "scopes": .array(scopeNames.map { .string($0) }),
                            "expires_at": expiresAt.map { .string($0.formatted(.iso8601)) } ?? .null,
                            "acts_for": actsFor.map { .string($0) } ?? .null,
                        ]),
                    on: connection, logger: logger)
                return (record, token)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            throw APIKeyStoreError.unknownWorkspace
        }
    }

    /// Keys of a workspace, oldest first, `limit` at a time after `cursor` (a key id).
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

    /// Revokes a key at once. Revoking a revoked key changes nothing and is not audited again.
    public func revoke(workspaceID: String, id: String, actor: AuditActor) async throws -> APIKeyRecord {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE api_keys SET revoked_at = now()
                WHERE id = \(id) AND workspace_id = \(workspaceID) AND revoked_at IS NULL
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            if let record = try await Self.records(rows).first {
                try await AuditLog.append(
                    AuditEvent(workspaceID: workspaceID, actor: actor, action: "key.revoked", targetType: "api_key", targetID: id),
                    on: connection, logger: logger)
                return record
            }
            let existing = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM api_keys WHERE id = \(id) AND workspace_id = \(workspaceID)",
                logger: logger)
            guard let record = try await Self.records(existing).first else { throw APIKeyStoreError.notFound }
            return record
        }
    }

    /// Issues a new secret for the key. The previous secret keeps working for
    /// `overlapSeconds` (0 ends it at once); only one previous secret is kept.
    public func rotate(workspaceID: String, id: String, overlapSeconds: Int, actor: AuditActor) async throws
        -> (APIKeyRecord, APIKeyToken)
    {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let current = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM api_keys WHERE id = \(id) AND workspace_id = \(workspaceID) FOR UPDATE",
                logger: logger)
            guard let record = try await Self.records(current).first else { throw APIKeyStoreError.notFound }
            guard record.revokedAt == nil else { throw APIKeyStoreError.revoked }
            let token = APIKeyToken(rotating: record.id)
            let rows = try await connection.query(
                """
                UPDATE api_keys SET previous_secret_hash = secret_hash,
                    previous_secret_expires_at = now() + make_interval(secs => \(overlapSeconds)),
                    secret_hash = \(ByteBuffer(bytes: token.hash)), rotated_at = now()
                WHERE id = \(id)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let rotated = try await Self.records(rows).first else { throw APIKeyStoreError.notFound }
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: workspaceID, actor: actor, action: "key.rotated", targetType: "api_key", targetID: id,
                    details: ["overlap_seconds": .integer(overlapSeconds)]),
                on: connection, logger: logger)
            return (rotated, token)
        }
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
