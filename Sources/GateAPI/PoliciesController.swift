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
    let reads: TimedPolicyReads
    let changePolicy: ChangePolicy
    /// Dropped from on every change (also on failure: a timed-out write may have committed).
    let cache: CachedPolicyLookup
    let audit: SecurityAudit

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
        let policies = try await reads.list(workspaceID: workspace)
        return JSONResponse(body: Page(items: policies.map(PolicyView.init)))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PolicyView> {
        let workspace = try context.requireWorkspace()
        let action = try context.parameters.require("action")
        guard let policy = try await reads.find(workspaceID: workspace, action: action) else { throw Problem(.notFound, detail: "no policy for \(action): it is not allowed in this workspace") }
        return JSONResponse(body: PolicyView(policy: policy))
    }

    /// Replaces the policy (`ChangePolicy`).
    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PolicyView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let action = try context.parameters.require("action")
        guard case .object(let body) = try await request.decodeJSON(as: JSONValue.self, context: context) else {
            throw Problem(.badRequest, detail: "the body must be a JSON object")
        }
        defer { cache.invalidate(workspaceID: workspace, action: action) }
        do {
            let saved = try await changePolicy(action, to: body, in: workspace, actor: SecurityAudit.actor(principal, context: context))
            return JSONResponse(body: PolicyView(policy: saved))
        } catch let invalid as ValidationFailure {
            throw Problem(invalid)
        }
    }
}
