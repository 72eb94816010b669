import Auth
import Gate
import Hummingbird
import Persistence

/// Everything under `/v1/workspaces/{ws}` is invisible to non-members: 404, decided
/// from the principal alone, before any resource is looked up (existence is not leaked).
/// Each refusal is audited in the workspace the path names, within the principal's
/// `DenialAuditBudget`: this comes before rate limiting (a foreign key must not spend
/// the workspace's limit), so without a budget one valid key could write audit rows
/// into any workspace as fast as it can send requests.
/// A JWT may name a workspace that does not exist: 404 as well (nothing to audit it
/// in), before any route could try to write into it.
struct WorkspaceAccessMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let denials: BudgetedDenialAudit
    let workspaces: KnownWorkspaces
    let timeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard let workspaceID = context.workspace, principal.isMember(of: workspaceID.rawValue) else {
            if let workspace = context.workspace?.rawValue {
                try await denials.denied(
                    source: "principal \(principal.qualifiedID)", workspace: workspace,
                    action: "authz.denied", principal: principal, reason: "not_a_member", request: request, context: context)
            }
            throw Problem(.notFound, detail: "no resource at this path")
        }
        if principal.kind != .apiKey {
            let workspaces = self.workspaces
            guard try await withTimeout(timeout, dependency: "postgres", { try await workspaces.exists(workspaceID.rawValue) }) else {
                throw Problem(.notFound, detail: "no resource at this path")
            }
        }
        return try await next(request, context)
    }
}

/// A route group's required scope (any one of `scopes`); a member without it gets 403.
struct RequireScope: RouterMiddleware {
    typealias Context = AppRequestContext
    let scopes: [Scope]
    let audit: SecurityAudit

    init(_ scopes: Scope..., audit: SecurityAudit) {
        self.scopes = scopes
        self.audit = audit
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        guard scopes.contains(where: { principal.has($0, in: workspace) }) else {
            let needed = scopes.map(\.rawValue).joined(separator: " or ")
            try await audit.denied(
                workspace: workspace, action: "authz.denied", principal: principal, reason: "missing_scope:\(needed)",
                request: request, context: context)
            throw Problem(.forbidden, detail: "this requires the scope \(needed)")
        }
        return try await next(request, context)
    }
}
