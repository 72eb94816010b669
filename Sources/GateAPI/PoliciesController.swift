import Actions
import Auth
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/policies`: the allowlist and how each action is gated.
/// Read with `policies:admin` or `approvals:read`; change with `policies:admin`.
struct PoliciesController: Sendable {
    let store: PolicyStore
    /// Dropped from on every change (also on failure: a timed-out write may have committed).
    let cache: CachedPolicyLookup
    let defaultApprovalTimeoutSeconds: Int
    let audit: SecurityAudit
    let timeout: Duration

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let read = workspace.group("policies").add(middleware: RequireScope(.policiesAdmin, .approvalsRead, audit: audit))
        read.get(use: list)
        read.get("{action}", use: get)
        workspace.group("policies").add(middleware: RequireScope(.policiesAdmin, audit: audit)).put("{action}", use: put)
    }

    struct PolicyView: Encodable, Sendable {
        let policy: Policy
        func encode(to encoder: any Encoder) throws {
            var object = policy.json
            if case .object(var members) = object, let updatedAt = policy.updatedAt {
                members["updated_at"] = .string(RFC3339.format(updatedAt))
                object = .object(members)
            }
            try object.encode(to: encoder)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<PolicyView>> {
        let workspace = try context.requireWorkspace()
        let store = self.store
        let policies = try await withTimeout(timeout, dependency: "postgres") { try await store.list(workspaceID: workspace) }
        return JSONResponse(body: Page(items: policies.map(PolicyView.init)))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PolicyView> {
        let workspace = try context.requireWorkspace()
        let action = try context.parameters.require("action")
        let store = self.store
        guard let policy = try await withTimeout(timeout, dependency: "postgres", { try await store.find(workspaceID: workspace, action: action) })
        else { throw Problem(.notFound, detail: "no policy for \(action): it is not allowed in this workspace") }
        return JSONResponse(body: PolicyView(policy: policy))
    }

    /// Replaces the policy; absent fields take their defaults (enabled, approval
    /// required, APPROVAL_TIMEOUT_SECONDS, one approval, no constraints).
    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PolicyView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let actionName = try context.parameters.require("action")
        var errors: [FieldError] = []
        guard let action = ActionName(rawValue: actionName) else {
            throw Problem(ValidationFailure([FieldError(field: "action", message: "unknown action \(actionName); known: \(ActionName.allCases.map(\.rawValue).joined(separator: ", "))")]))
        }
        guard case .object(let body) = try await request.decodeJSON(as: JSONValue.self, context: context) else {
            throw Problem(.badRequest, detail: "the body must be a JSON object")
        }
        let known: Set<String> = ["enabled", "approval", "approval_timeout_seconds", "required_approvals", "constraints"]
        for key in body.keys.sorted() where !known.contains(key) { errors.append(FieldError(field: key, message: "is not a known field")) }

        var enabled = true
        switch body["enabled"] {
        case nil: break
        case .bool(let value)?: enabled = value
        default: errors.append(FieldError(field: "enabled", message: "must be true or false"))
        }
        var approval = Policy.Approval.required
        switch body["approval"] {
        case nil: break
        case .string(let value)? where Policy.Approval(rawValue: value) != nil: approval = Policy.Approval(rawValue: value)!
        default: errors.append(FieldError(field: "approval", message: "must be \"required\" or \"auto\""))
        }
        var timeoutSeconds = defaultApprovalTimeoutSeconds
        switch body["approval_timeout_seconds"] {
        case nil: break
        case .integer(let value)? where (1...31_536_000).contains(value): timeoutSeconds = value
        default: errors.append(FieldError(field: "approval_timeout_seconds", message: "must be a whole number from 1 to 31536000"))
        }
        var requiredApprovals = 1
        switch body["required_approvals"] {
        case nil: break
        case .integer(let value)? where (1...10).contains(value): requiredApprovals = value
        default: errors.append(FieldError(field: "required_approvals", message: "must be a whole number from 1 to 10"))
        }
        var constraints = JSONValue.object([:])
        if let raw = body["constraints"] {
            switch PolicyConstraints.parse(raw, for: action) {
            case .success(let parsed): constraints = parsed.json
            case .failure(let failure): errors += failure.errors
            }
        }
        guard errors.isEmpty else { throw Problem(ValidationFailure(errors)) }

        let policy = Policy(
            action: action.rawValue, enabled: enabled, approval: approval, approvalTimeoutSeconds: timeoutSeconds,
            requiredApprovals: requiredApprovals, constraints: constraints)
        let store = self.store
        let actor = SecurityAudit.actor(principal, context: context)
        defer { cache.invalidate(workspaceID: workspace, action: policy.action) }
        let saved = try await withTimeout(timeout, dependency: "postgres") {
            try await store.put(workspaceID: workspace, policy: policy, actor: actor)
        }
        return JSONResponse(body: PolicyView(policy: saved))
    }
}
