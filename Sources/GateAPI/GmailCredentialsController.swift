import Actions
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/gmail-credentials` (`policies:admin`): the OAuth credentials
/// `gmail.send` uses. Stored sealed under SECRETS_KEY; never returned, only their kind.
struct GmailCredentialsController: Sendable {
    let store: GmailCredentialStore
    let secrets: SecretBox?
    let audit: SecurityAudit
    let timeout: Duration

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
        let workspace = try context.requireWorkspace()
        let store = self.store
        guard let stored = try await withTimeout(timeout, dependency: "postgres", { try await store.find(workspaceID: workspace) })
        else { throw Problem(.notFound, detail: "this workspace has no Gmail credentials") }
        return JSONResponse(body: CredentialsView(stored))
    }

    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CredentialsView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let body = try await request.decodeJSON(as: JSONValue.self, context: context)
        let credentials: GoogleCredentials
        switch GoogleCredentialsInput.parse(body) {
        case .success(let parsed): credentials = parsed
        case .failure(let failure):
            throw Problem(failure)
        }
        guard let secrets else {
            throw Problem(
                .serviceUnavailable, detail: "this server cannot store credentials: SECRETS_KEY is not set")
        }
        let sealed = try credentials.sealed(with: secrets, workspaceID: workspace)
        let actor = SecurityAudit.actor(principal, context: context)
        let store = self.store
        let saved = try await withTimeout(timeout, dependency: "postgres") {
            try await store.put(workspaceID: workspace, kind: credentials.kind, sealed: sealed, actor: actor)
        }
        return JSONResponse(body: CredentialsView(saved))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let actor = SecurityAudit.actor(principal, context: context)
        let store = self.store
        guard try await withTimeout(timeout, dependency: "postgres", { try await store.delete(workspaceID: workspace, actor: actor) })
        else { throw Problem(.notFound, detail: "this workspace has no Gmail credentials") }
        return Response(status: .noContent)
    }
}
