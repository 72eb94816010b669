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
    let store: WebhookSecretStore
    let secrets: SecretBox?
    let timeout: Duration

    /// How long the replaced secret keeps signing by default: a day to roll receivers over.
    static let defaultOverlapSeconds = 86400
    static let maximumOverlapSeconds = 2_592_000

    static func newID() -> String { "whs_" + Base32.random(count: 16) }

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

        init(_ stored: StoredWebhookSecret, secret: String? = nil, now: Date = Date()) {
            (id, createdBy, createdAt, expiresAt) = (stored.id, stored.createdBy, stored.createdAt, stored.expiresAt)
            signing = stored.expiresAt.map { $0 > now } ?? true
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
        let overlap = body?.overlapSeconds ?? Self.defaultOverlapSeconds
        guard (0...Self.maximumOverlapSeconds).contains(overlap) else {
            throw Problem(ValidationFailure([FieldError(field: "overlap_seconds", message: "must be 0 to 2592000")]))
        }
        guard let secrets else {
            throw Problem(.serviceUnavailable, detail: "this server cannot store webhook secrets: SECRETS_KEY is not set")
        }
        let secret = WebhookSignature.newSecret()
        let id = Self.newID()
        let sealed = try secrets.seal(secret, workspaceID: workspace)
        let actor = SecurityAudit.actor(principal, context: context)
        let store = self.store
        let created: StoredWebhookSecret
        do {
            created = try await withTimeout(timeout, dependency: "postgres") {
                try await store.rotate(
                    workspaceID: workspace, id: id, sealed: sealed, overlapSeconds: overlap,
                    createdBy: principal.qualifiedID, actor: actor)
            }
        } catch WebhookSecretStoreError.unknownWorkspace {
            throw Problem(.notFound, detail: "no workspace \(workspace)")
        }
        return JSONResponse(status: .created, body: SecretView(created, secret: secret), noStore: true)
    }

    /// The secrets that sign now, and those that stopped within the last day.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SecretList> {
        let workspace = try context.requireWorkspace()
        let store = self.store
        let stored = try await withTimeout(timeout, dependency: "postgres") { try await store.list(workspaceID: workspace) }
        return JSONResponse(body: SecretList(items: stored.map { SecretView($0) }))
    }

    /// Stops a secret signing at once.
    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        let actor = SecurityAudit.actor(principal, context: context)
        let store = self.store
        do {
            try await withTimeout(timeout, dependency: "postgres") { try await store.revoke(workspaceID: workspace, id: id, actor: actor) }
        } catch WebhookSecretStoreError.notFound {
            throw Problem(.notFound, detail: "no webhook secret \(id) in this workspace")
        }
        return Response(status: .noContent)
    }
}
