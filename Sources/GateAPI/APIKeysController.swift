import Auth
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/api-keys`: create, list, revoke and rotate keys (`keys:admin`).
/// A secret is in the response to create and rotate only, never in a listing.
struct APIKeysController: Sendable {
    let store: APIKeyStore
    /// Dropped from on every change (also on failure: a timed-out write may have committed).
    let cache: CachedAPIKeyLookup
    let rotationOverlapSeconds: Int
    let timeout: Duration

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
        let workspace = try context.parameters.require("ws")
        let body = try await request.decodeJSON(as: CreateBody.self, context: context)
        let name = body.name.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(name.count), !name.containsControlCharacters else {
            throw validation("name", "must be 1 to 200 characters without control characters")
        }
        guard !body.scopes.isEmpty else { throw validation("scopes", "must name at least one scope") }
        let scopes: Set<Scope>
        switch Scope.parse(body.scopes) {
        case .success(let parsed): scopes = parsed
        case .failure(let unknown): throw validation("scopes", "unknown scope \"\(unknown.name)\"")
        }
        let expiresAt = try body.expiresAt.map { text in
            guard let date = RFC3339Text.date(text) else {
                throw validation("expires_at", "must be an RFC 3339 timestamp such as 2027-01-01T00:00:00Z")
            }
            guard date > Date() else { throw validation("expires_at", "must be in the future") }
            return date
        }
        if let actsFor = body.actsFor, !(1...255).contains(actsFor.count) || actsFor.containsControlCharacters {
            throw validation("acts_for", "must be 1 to 255 characters without control characters")
        }
        let store = self.store
        let actor = SecurityAudit.actor(principal, context: context)
        let (record, token) = try await refusalsAsProblems {
            try await withTimeout(timeout, dependency: "postgres") {
                try await store.create(
                    workspaceID: workspace, name: name, scopes: scopes, expiresAt: expiresAt, actsFor: body.actsFor,
                    by: .principal(principal), actor: actor)
            }
        }
        return JSONResponse(status: .created, body: KeyView(record, secret: token), noStore: true)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<KeyView>> {
        let workspace = try context.parameters.require("ws")
        let limit = try Pagination.limit(request)
        let cursor = try Pagination.keyCursor(request)
        let store = self.store
        let records = try await withTimeout(timeout, dependency: "postgres") {
            try await store.list(workspaceID: workspace, limit: limit + 1, after: cursor)
        }
        return JSONResponse(body: Page(records, limit: limit, cursor: \.id, view: { KeyView($0) }))
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.parameters.require("ws")
        let id = try context.parameters.require("id")
        let store = self.store
        let actor = SecurityAudit.actor(principal, context: context)
        defer { cache.invalidate(id: id) }
        do {
            _ = try await refusalsAsProblems {
                try await withTimeout(timeout, dependency: "postgres") {
                    try await store.revoke(workspaceID: workspace, id: id, by: .principal(principal), actor: actor)
                }
            }
        } catch APIKeyStoreError.notFound {
            throw Problem(.notFound, detail: "no API key \(id) in this workspace")
        }
        return Response(status: .noContent)
    }

    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<KeyView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.parameters.require("ws")
        let id = try context.parameters.require("id")
        let body = try await request.decodeOptionalJSON(as: RotateBody.self, context: context)
        let overlap = body?.overlapSeconds ?? rotationOverlapSeconds
        guard (0...2_592_000).contains(overlap) else { throw validation("overlap_seconds", "must be 0 to 2592000") }
        let store = self.store
        let actor = SecurityAudit.actor(principal, context: context)
        defer { cache.invalidate(id: id) }
        do {
            let (record, token) = try await refusalsAsProblems {
                try await withTimeout(timeout, dependency: "postgres") {
                    try await store.rotate(
                        workspaceID: workspace, id: id, overlapSeconds: overlap, by: .principal(principal), actor: actor)
                }
            }
            return JSONResponse(body: KeyView(record, secret: token), noStore: true)
        } catch APIKeyStoreError.notFound {
            throw Problem(.notFound, detail: "no API key \(id) in this workspace")
        } catch APIKeyStoreError.revoked {
            throw Problem(.conflict, detail: "API key \(id) is revoked and cannot be rotated")
        }
    }

    /// `KeyAdministrationRules` refusals (audited by the store) as answers.
    private func refusalsAsProblems<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch APIKeyStoreError.refused(let refusal) {
            switch refusal {
            case .scopeNotForKeys:
                throw validation("scopes", "approvals:decide cannot be given to a key: a vote is a person's, made with their own token")
            case .beyondOwnScopes(let scopes):
                throw Problem(
                    .forbidden, detail: "the key holds or would hold scopes you do not hold: \(scopes.map(\.rawValue).joined(separator: ", "))")
            case .anotherPerson(let requested, let own):
                throw validation(
                    "acts_for",
                    "a key acts for the person behind its creator (\(own ?? "none")), not \"\(requested)\"; only the operator (gate-api keys create --acts-for) may name another person")
            case .previousSecret:
                throw Problem(.forbidden, detail: "a key's previous secret (rotation overlap) cannot administer keys; use its current secret")
            }
        }
    }

    private func validation(_ field: String, _ message: String) -> Problem {
        var problem = Problem(.unprocessableContent, title: "Validation Failed", detail: "\(field) \(message)")
        problem.extensions["errors"] = [["field": field, "message": message]]
        return problem
    }
}

/// A page of a listing: `{"items": […], "next_cursor": "…" | null}`.
