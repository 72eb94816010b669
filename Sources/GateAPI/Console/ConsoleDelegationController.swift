import Actions
import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird

/// `/console/w/{ws}/delegation`: "out of office" for the signed-in reviewer (issue 27
/// "Delegation") — name a delegate from the directory until a date, or end it — with
/// `DelegateReviews`, the API's use case (audited, never for another reviewer unless
/// the signed-in person administers the workspace).
struct ConsoleDelegationController: Sendable {
    let pages: ConsolePages
    let directory: ManageReviewerDirectory
    let delegate: DelegateReviews
    let audit: SecurityAudit
    let outboxEnabled: Bool

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        workspace.get("delegation", use: page)
        workspace.post("delegation", use: save)
        workspace.post("delegation/end", use: end)
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let done = request.uri.queryParameters.get("done").map { String($0.prefix(300)) }
        return try await render(context: context, flash: done.map { ["kind": "ok", "role": "status", "message": $0] })
    }

    func render(context: AppRequestContext, flash: [String: String]?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let person = try context.requirePrincipal().id
        var view = ConsoleViews.common(context, title: "Out of office", outboxEnabled: outboxEnabled)
        view["nav_delegation"] = true
        let entry = try await directory.find(person, in: workspace)
        view["listed"] = entry != nil
        view["person"] = person
        if let delegation = entry?.delegation {
            view["delegation"] = [
                "delegate": delegation.delegate, "from": RFC3339.format(delegation.from), "until": RFC3339.format(delegation.until),
                "active": delegation.isActive(at: Date()),
            ]
        }
        view["flash"] = flash
        return pages.html("console-delegation", consoleView(view), status: status)
    }

    /// The form's `until` is a date and time without a zone (`datetime-local`): read as UTC,
    /// as the page says.
    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        var until = (form["until"] ?? "").trimmingCharacters(in: .whitespaces)
        if until.count == 16 { until += ":00Z" } else if until.count == 19 { until += "Z" }
        let body: [String: JSONValue] = [
            "delegate": .string((form["delegate"] ?? "").trimmingCharacters(in: .whitespaces)), "until": .string(until),
        ]
        return try await change(body, request: request, context: context)
    }

    @Sendable func end(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        return try await change(nil, request: request, context: context)
    }

    private func change(_ body: [String: JSONValue]?, request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let person = principal.id
        func refused(_ message: String, _ status: HTTPResponse.Status) async throws -> Response {
            try await render(context: context, flash: ["kind": "error", "role": "alert", "message": message], status: status)
        }
        let outcome: DelegateReviews.Outcome
        do {
            outcome = try await delegate(
                person, body, in: workspace, by: DelegateReviews.Requester(principal, in: workspace),
                actor: SecurityAudit.actor(principal, context: context), audit: RequestAuditTrail(audit: audit, context: context))
        } catch let invalid as ValidationFailure {
            let message = invalid.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
            return try await refused("Nothing was saved: \(message).", .unprocessableContent)
        }
        switch outcome {
        case .changed(let entry):
            let done = entry.delegation.map { "\($0.delegate) stands in for you until \(RFC3339.format($0.until))." } ?? "Nobody stands in for you now."
            return ConsolePages.redirect(
                to: "/console/w/\(workspace)/delegation?done=\(done.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
        case .noReviewer:
            return try await refused("You are not in this workspace's reviewer directory; an admin adds you first.", .notFound)
        case .unknownDelegate:
            return try await refused("Nothing was saved: your delegate must be in this workspace's reviewer directory.", .conflict)
        case .notAllowed:
            return try await refused("Only reviewers (who may decide approvals here) name a delegate.", .forbidden)
        }
    }
}
