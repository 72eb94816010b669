import Actions
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/gmail-credentials` (`policies:admin`): the OAuth credentials
/// `gmail.send` uses. Stored sealed under SECRETS_KEY; never returned, only their kind.
struct GmailCredentialsController: Sendable {
    let credentials: ManageGmailCredentials
    let audit: SecurityAudit

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let admin = workspace.group("gmail-credentials").add(middleware: RequireScope(.policiesAdmin, audit: audit))
        admin.get(use: get)
        admin.put(use: put)
        admin.delete(use: delete)
    }

    struct CredentialsView: Encodable, Sendable {
        let kind: String
        let updatedBy: String
        let updatedAt: Date

        init(_ stored: StoredGmailCredentials) {
            (kind, updatedBy, updatedAt) = (stored.kind, stored.updatedBy, stored.updatedAt)
        }

        enum CodingKeys: String, CodingKey {
            case kind
            case updatedBy = "updated_by"
            case updatedAt = "updated_at"
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CredentialsView> {
        JSONResponse(body: CredentialsView(try await credentials.show(workspaceID: try context.requireWorkspace())))
    }

    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CredentialsView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let body = try await request.decodeJSON(as: JSONValue.self, context: context)
        let saved = try await credentials.put(
            workspaceID: workspace, input: body, actor: SecurityAudit.actor(principal, context: context))
        return JSONResponse(body: CredentialsView(saved))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try await credentials.delete(workspaceID: try context.requireWorkspace(), actor: SecurityAudit.actor(principal, context: context))
        return Response(status: .noContent)
    }
}
