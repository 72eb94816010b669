import Gate
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
    /// Key administration refused by `KeyAdministrationRules` (already audited).
    case refused(KeyRefusal)
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

    /// Creates a key and returns it with its one-time secret, if `administrator` may
    /// (`KeyAdministrationRules`); a refusal is audited and thrown as
    /// `APIKeyStoreError.refused`. The key's creator chain is its creator, then the
    /// creating key's own chain.
    public func create(
        workspaceID: String, name: String, scopes: Set<Scope>, expiresAt: Date?, actsFor requested: String?,
        by administrator: KeyAdministrator, actor: AuditActor
    ) async throws -> (APIKeyRecord, APIKeyToken) {
        let actsFor: String?
        switch KeyAdministrationRules.create(scopes: scopes, actsFor: requested, workspace: workspaceID, by: administrator) {
        case .success(let person): actsFor = person
        case .failure(let refusal):
            try await AuditLog.record(
                Self.refusalEvent(refusal, action: "key.create_refused", workspaceID: workspaceID, keyID: nil, actor: actor),
                client: client, logger: logger)
            throw APIKeyStoreError.refused(refusal)
        }
        let token = APIKeyToken.generate()
        let scopeNames = scopes.map(\.rawValue).sorted()
        let createdBy = administrator.qualifiedID
        let logger = self.logger
        do {
            return try await client.transaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO api_keys (id, workspace_id, name, scopes, secret_hash, created_by, acts_for, expires_at, creator_chain)
                    VALUES (\(token.id), \(workspaceID), \(name), \(scopeNames), \(ByteBuffer(bytes: token.hash)), \(createdBy), \(actsFor), \(expiresAt),
                            \(createdBy)::text || coalesce((SELECT creator_chain FROM api_keys WHERE id = \(administrator.keyID)), '{}'))
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

    /// The operator's path (seeding, tests): `createdBy` names the operator.
    public func create(
        workspaceID: String, name: String, scopes: Set<Scope>, expiresAt: Date?, createdBy: String, actsFor: String?,
        actor: AuditActor
    ) async throws -> (APIKeyRecord, APIKeyToken) {
        try await create(
            workspaceID: workspaceID, name: name, scopes: scopes, expiresAt: expiresAt, actsFor: actsFor,
            by: .operator(createdBy), actor: actor)
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

    /// Revokes a key at once, if `administrator` holds every scope it has (else audited
    /// and `APIKeyStoreError.refused`). Revoking a revoked key changes nothing and is
    /// not audited again.
    public func revoke(workspaceID: String, id: String, by administrator: KeyAdministrator, actor: AuditActor)
        async throws -> APIKeyRecord
    {
        let logger = self.logger
        let outcome = try await client.transaction(logger: logger) { connection -> Result<APIKeyRecord, KeyRefusal> in
            let record = try await Self.lockedForChange(workspaceID: workspaceID, id: id, on: connection, logger: logger)
            if let refusal = KeyAdministrationRules.manage(keyScopes: record.scopes, workspace: workspaceID, by: administrator) {
                try await AuditLog.append(
                    Self.refusalEvent(refusal, action: "key.revoke_refused", workspaceID: workspaceID, keyID: id, actor: actor),
                    on: connection, logger: logger)
                return .failure(refusal)
            }
            guard record.revokedAt == nil else { return .success(record) }
            let rows = try await connection.query(
                "UPDATE api_keys SET revoked_at = now() WHERE id = \(id) RETURNING \(unescaped: Self.columns)", logger: logger)
            guard let revoked = try await Self.records(rows).first else { throw APIKeyStoreError.notFound }
            try await AuditLog.append(
                AuditEvent(workspaceID: workspaceID, actor: actor, action: "key.revoked", targetType: "api_key", targetID: id),
                on: connection, logger: logger)
            return .success(revoked)
        }
        return try outcome.mapError { APIKeyStoreError.refused($0) }.get()
    }

    /// Issues a new secret for the key, if `administrator` holds every scope it has (else
    /// audited and `APIKeyStoreError.refused`). The previous secret keeps working for
    /// `overlapSeconds` (0 ends it at once), never past the key's own expiry; only one
    /// previous secret is kept, so a second rotation ends the first one's overlap, and
    /// revoking the key ends both. Whoever rotates joins the key's creator chain: they
    /// now hold a secret of it.
    public func rotate(
        workspaceID: String, id: String, overlapSeconds: Int, by administrator: KeyAdministrator, actor: AuditActor
    ) async throws -> (APIKeyRecord, APIKeyToken) {
        let logger = self.logger
        let outcome = try await client.transaction(logger: logger) { connection -> Result<(APIKeyRecord, APIKeyToken), KeyRefusal> in
            let record = try await Self.lockedForChange(workspaceID: workspaceID, id: id, on: connection, logger: logger)
            if let refusal = KeyAdministrationRules.manage(keyScopes: record.scopes, workspace: workspaceID, by: administrator) {
                try await AuditLog.append(
                    Self.refusalEvent(refusal, action: "key.rotate_refused", workspaceID: workspaceID, keyID: id, actor: actor),
                    on: connection, logger: logger)
                return .failure(refusal)
            }
            guard record.revokedAt == nil else { throw APIKeyStoreError.revoked }
            let token = APIKeyToken(rotating: record.id)
            let rows = try await connection.query(
                """
                UPDATE api_keys SET previous_secret_hash = secret_hash,
                    previous_secret_expires_at = least(now() + make_interval(secs => \(overlapSeconds)), expires_at),
                    secret_hash = \(ByteBuffer(bytes: token.hash)), rotated_at = now(),
                    creator_chain = ARRAY(
                        SELECT DISTINCT unnest(creator_chain || \(administrator.qualifiedID)::text
                            || coalesce((SELECT creator_chain FROM api_keys WHERE id = \(administrator.keyID)), '{}')))
                WHERE id = \(id)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let rotated = try await Self.records(rows).first else { throw APIKeyStoreError.notFound }
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: workspaceID, actor: actor, action: "key.rotated", targetType: "api_key", targetID: id,
                    details: ["overlap_seconds": .integer(overlapSeconds)]),
                on: connection, logger: logger)
            return .success((rotated, token))
        }
        return try outcome.mapError { APIKeyStoreError.refused($0) }.get()
    }

    /// The key, locked until the transaction ends; `notFound` outside its workspace.
    static func lockedForChange(workspaceID: String, id: String, on connection: PostgresConnection, logger: Logger)
        async throws -> APIKeyRecord
    {
        let rows = try await connection.query(
            "SELECT \(unescaped: columns) FROM api_keys WHERE id = \(id) AND workspace_id = \(workspaceID) FOR UPDATE",
            logger: logger)
        guard let record = try await records(rows).first else { throw APIKeyStoreError.notFound }
        return record
    }

    static func refusalEvent(_ refusal: KeyRefusal, action: String, workspaceID: String, keyID: String?, actor: AuditActor)
        -> AuditEvent
    {
        var details: [String: JSONValue] = ["reason": .string(refusal.reason)]
        switch refusal {
        case .beyondOwnScopes(let scopes): details["scopes"] = .array(scopes.map { .string($0.rawValue) })
        case .anotherPerson(let requested, _): details["acts_for"] = .string(requested)
        case .scopeNotForKeys, .previousSecret: break
        }
        return AuditEvent(
            workspaceID: workspaceID, actor: actor, action: action, targetType: "api_key", targetID: keyID, outcome: .denied,
            details: details)
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
