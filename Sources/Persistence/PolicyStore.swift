import Approvals
import Actions
import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

public struct PolicyStore: PolicyStoring {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = "action, enabled, approval, approval_timeout_seconds, required_approvals, constraints::text, notifications::text, approvers::text, updated_at"

    public func list(workspaceID: String) async throws -> [Policy] {
        try await Self.policies(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM policies WHERE workspace_id = \(workspaceID) ORDER BY action",
                logger: logger))
    }

    public func find(workspaceID: String, action: String) async throws -> Policy? {
        try await Self.policies(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM policies WHERE workspace_id = \(workspaceID) AND action = \(action)",
                logger: logger)
        ).first
    }

    /// Creates or replaces the policy, audited with what it was before and after.
    public func put(workspaceID: String, policy: Policy, actor: AuditActor) async throws -> Policy {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let before = try await Self.policies(
                connection.query(
                    "SELECT \(unescaped: Self.columns) FROM policies WHERE workspace_id = \(workspaceID) AND action = \(policy.action) FOR UPDATE",
                    logger: logger)
            ).first
            let rows = try await connection.query(
                """
                INSERT INTO policies (workspace_id, action, enabled, approval, approval_timeout_seconds, required_approvals, constraints,
                                      notifications, approvers, updated_at)
                VALUES (\(workspaceID), \(policy.action), \(policy.enabled), \(policy.approval.rawValue), \(policy.approvalTimeoutSeconds),
                        \(policy.requiredApprovals), \(policy.constraints.jsonText)::jsonb, \(policy.notifications.json.jsonText)::jsonb,
                        \(ApproverRulesJSON.json(policy.approvers).jsonText)::jsonb, now())
                ON CONFLICT (workspace_id, action) DO UPDATE SET enabled = EXCLUDED.enabled, approval = EXCLUDED.approval,
                    approval_timeout_seconds = EXCLUDED.approval_timeout_seconds,
                    required_approvals = EXCLUDED.required_approvals, constraints = EXCLUDED.constraints,
                    notifications = EXCLUDED.notifications, approvers = EXCLUDED.approvers, updated_at = now()
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let after = try await Self.policies(rows).first else { throw PolicyStoreError.notWritten }
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: workspaceID, actor: actor, action: "policy.changed", targetType: "policy",
                    targetID: policy.action, details: ["before": before?.json ?? .null, "after": after.json]),
                on: connection, logger: logger)
            return after
        }
    }

    static func policies(_ rows: PostgresRowSequence) async throws -> [Policy] {
        var result: [Policy] = []
        for try await (action, enabled, approval, timeout, required, constraints, notifications, approvers, updatedAt) in rows.decode(
            (String, Bool, String, Int, Int, String, String, String, Date).self)
        {
            result.append(
                Policy(
                    action: action, enabled: enabled, approval: Policy.Approval(rawValue: approval) ?? .required,
                    approvalTimeoutSeconds: timeout, requiredApprovals: required,
                    // Unreadable text becomes null, which no action accepts as constraints:
                    // the gate then refuses rather than run without them.
                    constraints: (try? JSONValue(parsing: constraints)) ?? .null,
                    notifications: NotificationRules.stored((try? JSONValue(parsing: notifications)) ?? .null),
                    // Unreadable rules become one nobody meets (no group is named ""): the
                    // gate refuses every vote and the approval expires, deny by default.
                    approvers: (try? ApproverRulesJSON.decode(approvers)) ?? [ApproverRule(group: "", count: 10)],
                    updatedAt: updatedAt))
        }
        return result
    }
}

public enum PolicyStoreError: Error {
    case notWritten
}
