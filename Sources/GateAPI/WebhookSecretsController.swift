import Actions
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/webhook-secrets` (`policies:admin`): the workspace's own
/// secrets that sign its webhooks (`webhook-signature`). A new secret is shown once, in
/// the answer to the POST that makes it; it is stored sealed under SECRETS_KEY.
struct WebhookSecretsController: Sendable {
    let secrets: ManageWebhookSecrets

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post(use: rotate)
        group.get(use: list)
        group.delete("{id}", use: revoke)
    }

    struct RotateBody: Decodable {
        let overlapSeconds: Int?
        enum CodingKeys: String, CodingKey { case overlapSeconds = "overlap_seconds" }
    }

    struct SecretView: Encodable, Sendable {
        let id: String
        let createdBy: String
        let createdAt: Date
        let expiresAt: Date?
        let signing: Bool
        /// Only in the answer to the POST that made it.
        let secret: String?

        init(_ stored: StoredWebhookSecret, secret: String? = nil) {
            (id, createdBy, createdAt, expiresAt) = (stored.id, stored.createdBy, stored.createdAt, stored.expiresAt)
            signing = stored.signs()
            self.secret = secret
        }

        enum CodingKeys: String, CodingKey {
            case id, signing, secret
            case createdBy = "created_by"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
        }
    }

    struct SecretList: Encodable, Sendable {
        let items: [SecretView]
    }

    /// Creates a secret and makes it the current one; the one it replaces keeps signing
    /// for `overlap_seconds`.
    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SecretView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let body = try await request.decodeOptionalJSON(as: RotateBody.self, context: context)
        let (stored, secret) = try await secrets.rotate(
            workspaceID: workspace, overlapSeconds: body?.overlapSeconds, createdBy: principal.qualifiedID,
            actor: SecurityAudit.actor(principal, context: context))
        return JSONResponse(status: .created, body: SecretView(stored, secret: secret), noStore: true)
    }

    /// The secrets that sign now, and those that stopped within the last day.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SecretList> {
        let stored = try await secrets.list(workspaceID: try context.requireWorkspace())
        return JSONResponse(body: SecretList(items: stored.map { SecretView($0) }))
    }

    /// Stops a secret signing at once.
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        try await secrets.revoke(workspaceID: workspace, id: id, actor: SecurityAudit.actor(principal, context: context))
        return Response(status: .noContent)
    }
}
