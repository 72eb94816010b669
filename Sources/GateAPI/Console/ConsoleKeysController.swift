import Actions
import Auth
import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird
import Persistence

/// The workspace admin's API keys: the list (with last use), creating one (its secret
/// shown once, on the answer to the form, never again), rotating and revoking —
/// `AdministerKeys`, the API's use case and rules.
struct ConsoleKeysController: Sendable {
    let pages: ConsolePages
    let reads: TimedKeyReads
    let keys: AdministerKeys
    let cache: CachedAPIKeyLookup
    let audit: SecurityAudit
    let outboxEnabled: Bool

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let admin = workspace.group("admin/keys").add(middleware: RequireScope(.keysAdmin, audit: audit))
        admin.get(use: list)
        admin.post(use: create)
        admin.post("{id}/rotate", use: rotate)
        admin.post("{id}/revoke", use: revoke)
    }

    func page(_ context: AppRequestContext, secret: [String: String]? = nil, flash: [String: String]? = nil) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let records = try await reads.list(workspaceID: workspace, limit: 200, after: nil)
        // What the rules let this person do: keys within their own scopes (KeyAdministrationRules).
        let own = context.principal?.workspaces[workspace] ?? []
        var view = ConsoleViews.common(context, title: "API keys", outboxEnabled: outboxEnabled)
        view["nav_admin"] = true
        view["keys"] = records.map { key in
            consoleView([
                "id": key.id, "name": key.name, "scopes": key.scopes.map(\.rawValue).sorted().joined(separator: ", "),
                "acts_for": key.actsFor, "created_at": RFC3339.format(key.createdAt),
                "last_used": key.lastUsedAt.map(RFC3339.format) ?? "never",
                "manageable": key.revokedAt == nil && key.scopes.isSubset(of: own),
                "state": key.revokedAt != nil ? "revoked" : key.expiresAt.map { $0 <= Date() ? "expired" : "active" } ?? "active",
            ])
        }
        view["grantable"] = Scope.grantableToKeys.intersection(own).map(\.rawValue).sorted().map { ["scope": $0] }
        view["secret"] = secret
        view["flash"] = flash
        // The secret is on this page only: no cache, and not kept in the browser's history.
        return pages.html("console-keys", consoleView(view))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(context, flash: request.uri.queryParameters.get("revoked").map {
            ["kind": "ok", "role": "status", "message": "Key \($0) is revoked."]
        })
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let expiresAt = try form["expires_at"].flatMap { $0.isEmpty ? nil : $0 }.map { text in
            guard let date = RFC3339Text.date(text) else {
                throw Problem(.unprocessableContent, detail: "“Expires” must be a time such as 2027-01-01T00:00:00Z.")
            }
            return date
        }
        let actsFor = form["acts_for"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        let keys = self.keys
        let (record, token) = try await APIKeysController.rendering {
            try await keys.create(
                workspace: workspace, name: form["name"] ?? "", scopes: form.all("scopes"), expiresAt: expiresAt, actsFor: actsFor,
                by: .principal(principal), actor: SecurityAudit.actor(principal, context: context))
        }
        return try await page(context, secret: ["id": record.id, "name": record.name, "value": token.value, "verb": "created"])
    }

    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (record, token) = try await change(request, context: context) { keys, workspace, id, principal, actor in
            try await keys.rotate(workspace: workspace, id: id, overlapSeconds: nil, by: .principal(principal), actor: actor)
        }
        return try await page(context, secret: ["id": record.id, "name": record.name, "value": token.value, "verb": "rotated"])
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let revoked = try await change(request, context: context) { keys, workspace, id, principal, actor in
            try await keys.revoke(workspace: workspace, id: id, by: .principal(principal), actor: actor)
        }
        return ConsolePages.redirect(to: "/console/w/\(revoked.workspaceID)/admin/keys?revoked=\(revoked.id)")
    }

    /// A form on one key (CSRF-checked), the use case, its refusals as answers, and the
    /// key dropped from the cache whatever happened (a timed-out write may have committed).
    func change<T>(
        _ request: Request, context: AppRequestContext,
        _ body: (AdministerKeys, String, String, Principal, AuditActor) async throws -> T
    ) async throws -> T {
        _ = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        defer { cache.invalidate(id: id) }
        return try await APIKeysController.rendering(id: id) {
            try await body(keys, workspace, id, principal, SecurityAudit.actor(principal, context: context))
        }
    }
}
