import Actions
import Foundation
import Gate
import GateCore
import Hummingbird

/// `/v1/workspaces/{ws}/reviewers`: the workspace's reviewer directory
/// (`ManageReviewerDirectory`), kept by workspace admins (`policies:admin`); and each
/// reviewer's delegation (`DelegateReviews`), named by the reviewer or an admin.
struct ReviewersController: Sendable {
    let directory: ManageReviewerDirectory
    let delegate: DelegateReviews
    let audit: SecurityAudit

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        // Before the admin group: a reviewer names their own delegate without `policies:admin`.
        workspace.put("reviewers/{person}/delegation", use: putDelegation)
        workspace.delete("reviewers/{person}/delegation", use: endDelegation)
        let admin = workspace.group("reviewers").add(middleware: RequireScope(.policiesAdmin, audit: audit))
        admin.get(use: list)
        admin.get("{person}", use: get)
        admin.put("{person}", use: put)
        admin.delete("{person}", use: remove)
    }

    @Sendable func putDelegation(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<EntryView> {
        guard case .object(let body) = try await request.decodeJSON(as: JSONValue.self, context: context) else {
            throw Problem(.badRequest, detail: "the body must be a JSON object")
        }
        return try await delegation(body, request: request, context: context)
    }

    @Sendable func endDelegation(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<EntryView> {
        try await delegation(nil, request: request, context: context)
    }

    /// The reviewer themselves (a person's token with `approvals:decide`) or an admin;
    /// anyone else is refused (audited) — 404 if the directory has no such reviewer.
    private func delegation(_ body: [String: JSONValue]?, request: Request, context: AppRequestContext) async throws
        -> JSONResponse<EntryView>
    {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let person = try Self.person(context)
        let outcome: DelegateReviews.Outcome
        do {
            outcome = try await delegate(
                person, body, in: workspace, by: DelegateReviews.Requester(principal, in: workspace),
                actor: SecurityAudit.actor(principal, context: context), audit: RequestAuditTrail(audit: audit, context: context))
        } catch let invalid as ValidationFailure {
            throw Problem(invalid)
        }
        switch outcome {
        case .changed(let entry):
            return JSONResponse(body: EntryView(entry: entry))
        case .noReviewer:
            throw Problem(.notFound, detail: "no reviewer \(person) in this workspace's directory")
        case .unknownDelegate:
            throw Problem(.conflict, detail: "the delegate is not in this workspace's directory: add them first, so they can be told")
        case .notAllowed:
            throw Problem(.forbidden, detail: "only \(person) (with approvals:decide) or a workspace admin (policies:admin) names their delegate")
        }
    }

    /// The path's person id, percent-decoded (`auth0%7C5f…` is `auth0|5f…`).
    static func person(_ context: AppRequestContext) throws -> String {
        let raw = try context.parameters.require("person")
        return raw.removingPercentEncoding ?? raw
    }

    struct EntryView: Encodable, Sendable {
        let entry: DirectoryEntry
        func encode(to encoder: any Encoder) throws { try entry.json.encode(to: encoder) }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<EntryView>> {
        let workspace = try context.requireWorkspace()
        return JSONResponse(body: Page(items: try await directory.list(in: workspace).map(EntryView.init)))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<EntryView> {
        let workspace = try context.requireWorkspace()
        let person = try Self.person(context)
        guard let entry = try await directory.find(person, in: workspace) else {
            throw Problem(.notFound, detail: "no reviewer \(person) in this workspace's directory")
        }
        return JSONResponse(body: EntryView(entry: entry))
    }

    /// Creates or replaces the person's entry.
    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<EntryView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let person = try Self.person(context)
        guard case .object(let body) = try await request.decodeJSON(as: JSONValue.self, context: context) else {
            throw Problem(.badRequest, detail: "the body must be a JSON object")
        }
        do {
            let saved = try await directory.put(person, body, in: workspace, actor: SecurityAudit.actor(principal, context: context))
            return JSONResponse(body: EntryView(entry: saved))
        } catch let invalid as ValidationFailure {
            throw Problem(invalid)
        }
    }

    @Sendable func remove(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let person = try Self.person(context)
        guard try await directory.remove(person, in: workspace, actor: SecurityAudit.actor(principal, context: context)) else {
            throw Problem(.notFound, detail: "no reviewer \(person) in this workspace's directory")
        }
        return Response(status: .noContent)
    }
}
