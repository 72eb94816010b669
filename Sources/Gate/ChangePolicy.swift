import Actions
import Approvals
import GateCore

/// Where a workspace's policies are written: the policy and its `policy.changed` audit
/// row in one transaction; the saved policy comes back.
public protocol PolicyStoring: Sendable {
    func put(workspaceID: String, policy: Policy, actor: AuditActor) async throws -> Policy
}

/// Replacing a workspace's policy for one action (SPEC §2 Policy): the allowlist entry
/// and how the action is gated. Absent fields take their defaults (enabled, approval
/// required, the server's approval timeout, one approval, no constraints, notifications to every reviewer); every bad
/// field is reported at once (`ValidationFailure`), and nothing is written.
public struct ChangePolicy: Sendable {
    public static let fields: Set<String> = [
        "enabled", "approval", "approval_timeout_seconds", "required_approvals", "constraints", "notifications", "approvers",
    ]

    let store: any PolicyStoring
    let defaultApprovalTimeoutSeconds: Int

    public init(store: any PolicyStoring, defaultApprovalTimeoutSeconds: Int) {
        self.store = store
        self.defaultApprovalTimeoutSeconds = defaultApprovalTimeoutSeconds
    }

    public func callAsFunction(_ actionName: String, to body: [String: JSONValue], in workspace: String, actor: AuditActor)
        async throws -> Policy
    {
        try await store.put(workspaceID: workspace, policy: try policy(actionName, from: body).get(), actor: actor)
    }

    /// The policy `body` describes, or every field that is wrong.
    public func policy(_ actionName: String, from body: [String: JSONValue]) -> Result<Policy, ValidationFailure> {
        guard let action = ActionName(rawValue: actionName) else {
            let known = ActionName.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(ValidationFailure([FieldError(field: "action", message: "unknown action \(actionName); known: \(known)")]))
        }
        var errors = body.keys.sorted().filter { !Self.fields.contains($0) }.map { FieldError(field: $0, message: "is not a known field") }
        func read<T>(_ field: String, default value: T, _ message: String, _ parse: (JSONValue) -> T?) -> T {
            guard let raw = body[field] else { return value }
            if let parsed = parse(raw) { return parsed }
            errors.append(FieldError(field: field, message: message))
            return value
        }
        let enabled = read("enabled", default: true, "must be true or false") { if case .bool(let b) = $0 { b } else { nil } }
        let approval = read("approval", default: Policy.Approval.required, "must be \"required\" or \"auto\"") {
            if case .string(let text) = $0 { Policy.Approval(rawValue: text) } else { nil }
        }
        let timeout = read("approval_timeout_seconds", default: defaultApprovalTimeoutSeconds, "must be a whole number from 1 to 31536000") {
            if case .integer(let n) = $0, (1...31_536_000).contains(n) { n } else { nil }
        }
        var approvers: [ApproverRule] = []
        if let raw = body["approvers"] {
            switch ApproverRulesJSON.parse(raw) {
            case .success(let parsed): approvers = parsed
            case .failure(let failure): errors += failure.errors
            }
        }
        // With group rules and no count, the rules' sum; a count below it is refused
        // rather than quietly raised.
        let rulesTotal = QuorumMatching.ruleSlots(approvers)
        let required = read("required_approvals", default: max(1, rulesTotal), "must be a whole number from 1 to 10") {
            if case .integer(let n) = $0, (1...10).contains(n) { n } else { nil }
        }
        if body["required_approvals"] != nil, required < rulesTotal {
            errors.append(
                FieldError(
                    field: "required_approvals",
                    message: "must be at least \(rulesTotal), the approvals the approvers rules ask for (or leave it out)"))
        }
        var constraints = JSONValue.object([:])
        if let raw = body["constraints"] {
            switch PolicyConstraints.parse(raw, for: action) {
            case .success(let parsed): constraints = parsed.json
            case .failure(let failure): errors += failure.errors
            }
        }
        var notifications = NotificationRules()
        if let raw = body["notifications"] {
            switch NotificationRules.parse(raw, timeoutSeconds: timeout) {
            case .success(let parsed): notifications = parsed
            case .failure(let failure): errors += failure.errors
            }
        }
        guard errors.isEmpty else { return .failure(ValidationFailure(errors)) }
        return .success(
            Policy(
                action: action.rawValue, enabled: enabled, approval: approval, approvalTimeoutSeconds: timeout,
                requiredApprovals: required, constraints: constraints, notifications: notifications, approvers: approvers))
    }
}
