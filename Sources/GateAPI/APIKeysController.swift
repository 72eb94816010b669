import Actions
import Auth
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/api-keys`: create, list, revoke and rotate keys (`keys:admin`).
/// A secret is in the response to create and rotate only, never in a listing.
struct APIKeysController: Sendable {
    let reads: TimedKeyReads
    let keys: AdministerKeys
    /// Dropped from on every change (also on failure: a timed-out write may have committed).
    let cache: CachedAPIKeyLookup

    struct CreateBody: Decodable {
        let name: String
        let scopes: [String]
        /// RFC 3339, read strictly (`RFC3339Text`) rather than by JSONDecoder's ISO 8601.
        let expiresAt: String?
        let actsFor: String?

        enum CodingKeys: String, CodingKey {
            case name, scopes
            case expiresAt = "expires_at"
            case actsFor = "acts_for"
        }
    }

    struct RotateBody: Decodable {
        let overlapSeconds: Int?
        enum CodingKeys: String, CodingKey { case overlapSeconds = "overlap_seconds" }
    }

    struct KeyView: Encodable, Sendable {
        let id: String
        let workspace: String
        let name: String
        let scopes: [String]
        let createdBy: String
        let actsFor: String?
        let createdAt: Date
        let expiresAt: Date?
        let revokedAt: Date?
        let rotatedAt: Date?
        let lastUsedAt: Date?
        let previousKeyExpiresAt: Date?
        /// Only on create and rotate.
        let key: String?

        init(_ record: APIKeyRecord, secret: APIKeyToken? = nil, now: Date = Date()) {
            id = record.id
            workspace = record.workspaceID
            name = record.name
            scopes = record.scopes.map(\.rawValue).sorted()
            createdBy = record.createdBy
            actsFor = record.actsFor
            createdAt = record.createdAt
            expiresAt = record.expiresAt
            revokedAt = record.revokedAt
            rotatedAt = record.rotatedAt
            lastUsedAt = record.lastUsedAt
            previousKeyExpiresAt = record.previousSecretExpiresAt.flatMap { $0 > now ? $0 : nil }
            key = secret?.value
        }

        enum CodingKeys: String, CodingKey {
            case id, workspace, name, scopes, key
            case createdBy = "created_by"
            case actsFor = "acts_for"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case revokedAt = "revoked_at"
            case rotatedAt = "rotated_at"
            case lastUsedAt = "last_used_at"
            case previousKeyExpiresAt = "previous_key_expires_at"
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.delete("{id}", use: revoke)
        group.post("{id}/rotate", use: rotate)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<KeyView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let body = try await request.decodeJSON(as: CreateBody.self, context: context)
        let expiresAt = try body.expiresAt.map { text in
            guard let date = RFC3339Text.date(text) else {
                throw Problem(ValidationFailure([
                    FieldError(field: "expires_at", message: "must be an RFC 3339 timestamp such as 2027-01-01T00:00:00Z")
                ]))
            }
            return date
        }
        let keys = self.keys
        let actor = SecurityAudit.actor(principal, context: context)
        let (record, token) = try await Self.rendering {
            try await keys.create(
                workspace: workspace, name: body.name, scopes: body.scopes, expiresAt: expiresAt, actsFor: body.actsFor,
                by: .principal(principal), actor: actor)
        }
        return JSONResponse(status: .created, body: KeyView(record, secret: token), noStore: true)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<KeyView>> {
        let workspace = try context.requireWorkspace()
        let limit = try Pagination.limit(request)
        let cursor = try Pagination.keyCursor(request)
        let records = try await reads.list(workspaceID: workspace, limit: limit + 1, after: cursor)
        return JSONResponse(body: Page(records, limit: limit, cursor: \.id, view: { KeyView($0) }))
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        let keys = self.keys
        let actor = SecurityAudit.actor(principal, context: context)
        defer { cache.invalidate(id: id) }
        _ = try await Self.rendering(id: id) {
            try await keys.revoke(workspace: workspace, id: id, by: .principal(principal), actor: actor)
        }
        return Response(status: .noContent)
    }

    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<KeyView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        let body = try await request.decodeOptionalJSON(as: RotateBody.self, context: context)
        let keys = self.keys
        let actor = SecurityAudit.actor(principal, context: context)
        defer { cache.invalidate(id: id) }
        let (record, token) = try await Self.rendering(id: id) {
            try await keys.rotate(
                workspace: workspace, id: id, overlapSeconds: body?.overlapSeconds, by: .principal(principal), actor: actor)
        }
        return JSONResponse(body: KeyView(record, secret: token), noStore: true)
    }

    /// The use case's errors as answers.
    static func rendering<T>(id: String? = nil, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let invalid as ValidationFailure {
            throw Problem(invalid)
        } catch let error as KeyAdministrationError {
            switch error {
            case .notFound: throw Problem(.notFound, detail: "no API key \(id ?? "") in this workspace")
            case .revoked: throw Problem(.conflict, detail: "API key \(id ?? "") is revoked and cannot be rotated")
            case .unknownWorkspace: throw Problem(.notFound, detail: "no resource at this path")
            case .refused(let refusal): throw Problem(refusal)
            }
        }
    }
}

/// A page of a listing: `{"items": […], "next_cursor": "…" | null}`.
