import Actions
import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird

/// `/console/w/{ws}/admin/reviewers`: the workspace's reviewer directory (issue 27) —
/// who reviews, how to reach them, their groups — kept with `ManageReviewerDirectory`,
/// the API's use case (every change audited with the entry before and after).
struct ConsoleReviewersController: Sendable {
    let pages: ConsolePages
    let directory: ManageReviewerDirectory
    let audit: SecurityAudit
    let outboxEnabled: Bool

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let admin = workspace.group("admin/reviewers").add(middleware: RequireScope(.policiesAdmin, audit: audit))
        admin.get(use: page)
        admin.post(use: save)
        admin.post("{person}/remove", use: remove)
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let done = request.uri.queryParameters.get("done").map { String($0.prefix(300)) }
        return try await render(context: context, flash: done.map { ["kind": "ok", "role": "status", "message": $0] })
    }

    func render(context: AppRequestContext, flash: [String: String]?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let workspace = try context.requireWorkspace()
        var view = ConsoleViews.common(context, title: "Reviewers", outboxEnabled: outboxEnabled)
        view["nav_admin"] = true
        view["reviewers"] = try await directory.list(in: workspace).map { entry in
            consoleView([
                "person": entry.person, "person_path": entry.person.addingPercentEncoding(withAllowedCharacters: .alphanumerics),
                "email": entry.email, "display_name": entry.displayName, "slack_user_id": entry.slackUserID,
                "groups": entry.groups.joined(separator: ", "), "notify": entry.notify,
                "delegation": entry.delegation.map { "\($0.delegate) until \(RFC3339.format($0.until))" },
            ])
        }
        view["flash"] = flash
        return pages.html("console-reviewers", consoleView(view), status: status)
    }

    /// The form is the API's PUT body (groups comma-separated); a refusal names each bad field.
    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let person = (form["person"] ?? "").trimmingCharacters(in: .whitespaces)
        func optional(_ name: String) -> JSONValue {
            let text = (form[name] ?? "").trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? .null : .string(text)
        }
        let groups = (form["groups"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let body: [String: JSONValue] = [
            "email": optional("email"), "display_name": optional("display_name"), "slack_user_id": optional("slack_user_id"),
            "groups": .array(groups.map(JSONValue.string)), "notify": .bool(form["notify"] == "on"),
        ]
        do {
            _ = try await directory.put(person, body, in: workspace, actor: SecurityAudit.actor(principal, context: context))
        } catch let invalid as ValidationFailure {
            let message = invalid.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
            return try await render(
                context: context, flash: ["kind": "error", "role": "alert", "message": "Nothing was saved: \(message)."],
                status: .unprocessableContent)
        }
        return ConsolePages.redirect(to: "/console/w/\(workspace)/admin/reviewers?done=\(Self.query("Saved \(person)."))")
    }

    @Sendable func remove(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        // Hummingbird does not decode path parameters; ids with `|` or `@` arrive encoded.
        let raw = try context.parameters.require("person")
        let person = raw.removingPercentEncoding ?? raw
        guard try await directory.remove(person, in: workspace, actor: SecurityAudit.actor(principal, context: context)) else {
            throw Problem(.notFound, detail: "The directory has no such person.")
        }
        return ConsolePages.redirect(to: "/console/w/\(workspace)/admin/reviewers?done=\(Self.query("Removed \(person)."))")
    }

    static func query(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
}
