import Gate
import GateCore
import Auth
import Foundation
import Logging
import PostgresNIO

public struct Workspace: Sendable, Equatable {
    public let id: String
    public let name: String
    public let createdAt: Date
}

public enum WorkspaceStoreError: Error, Equatable {
    case invalidID(String)
    case alreadyExists(String)
}

/// A newly created workspace's allowlist: each default action enabled and gated.
public struct DefaultPolicy: Sendable {
    public let action: String
    public let approvalTimeoutSeconds: Int

    public init(action: String, approvalTimeoutSeconds: Int) {
        self.action = action
        self.approvalTimeoutSeconds = approvalTimeoutSeconds
    }
}

public struct WorkspaceStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Creates the workspace with its default policies, audited, in one transaction.
    public func create(id: String, name: String, defaults: [DefaultPolicy], actor: AuditActor) async throws -> Workspace {
        guard WorkspaceID.isValid(id) else { throw WorkspaceStoreError.invalidID(id) }
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                "INSERT INTO workspaces (id, name) VALUES (\(id), \(name)) ON CONFLICT (id) DO NOTHING RETURNING created_at",
                logger: logger)
            var createdAt: Date?
            for try await (date) in rows.decode(Date.self) { createdAt = date }
            guard let createdAt else { throw WorkspaceStoreError.alreadyExists(id) }
            for policy in defaults {
                try await connection.query(
                    """
                    INSERT INTO policies (workspace_id, action, enabled, approval, approval_timeout_seconds, required_approvals)
                    VALUES (\(id), \(policy.action), true, 'required', \(policy.approvalTimeoutSeconds), 1)
                    """, logger: logger)
            }
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: id, actor: actor, action: "workspace.created", targetType: "workspace", targetID: id,
                    details: ["name": .string(name), "allowed_actions": .array(defaults.map { .string($0.action) })]),
                on: connection, logger: logger)
            return Workspace(id: id, name: name, createdAt: createdAt)
        }
    }

    public func find(id: String) async throws -> Workspace? {
        let rows = try await client.query("SELECT id, name, created_at FROM workspaces WHERE id = \(id)", logger: logger)
        for try await (id, name, createdAt) in rows.decode((String, String, Date).self) {
            return Workspace(id: id, name: name, createdAt: createdAt)
        }
        return nil
    }
}
