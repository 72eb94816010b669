import Approvals
import Foundation
import GateCore

/// A workspace's rule for one action (SPEC §2 Policy).
public struct Policy: Sendable, Equatable {
    public enum Approval: String, Sendable, Codable {
        case required
        case auto
    }

    public var action: String
    public var enabled: Bool
    public var approval: Approval
    public var approvalTimeoutSeconds: Int
    public var requiredApprovals: Int
    public var constraints: JSONValue
    /// Who hears of its approvals and when (issue 27).
    public var notifications: NotificationRules
    /// Who must approve, by group (issue 27); empty: any `requiredApprovals` people.
    public var approvers: [ApproverRule]
    public var updatedAt: Date?

    public init(
        action: String, enabled: Bool, approval: Approval, approvalTimeoutSeconds: Int, requiredApprovals: Int,
        constraints: JSONValue, notifications: NotificationRules = NotificationRules(), approvers: [ApproverRule] = [],
        updatedAt: Date? = nil
    ) {
        self.approvers = approvers
        self.action = action
        self.enabled = enabled
        self.approval = approval
        self.approvalTimeoutSeconds = approvalTimeoutSeconds
        self.requiredApprovals = requiredApprovals
        self.constraints = constraints
        self.notifications = notifications
        self.updatedAt = updatedAt
    }

    public var json: JSONValue {
        [
            "action": .string(action), "enabled": .bool(enabled), "approval": .string(approval.rawValue),
            "approval_timeout_seconds": .integer(approvalTimeoutSeconds), "required_approvals": .integer(requiredApprovals),
            "constraints": constraints, "notifications": notifications.json, "approvers": ApproverRulesJSON.json(approvers),
        ]
    }
}
