import Actions
import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird
import Persistence

/// The workspace admin's pages for policies and dead letters: `ChangePolicy` (with the
/// change's before and after) and `RequeueDeadLetter`, the API's use cases.
struct ConsoleAdminController: Sendable {
    let pages: ConsolePages
    let policies: TimedPolicyReads
    let changePolicy: ChangePolicy
    let policyCache: CachedPolicyLookup
    let jobs: TimedJobReads
    let requeue: RequeueDeadLetter
    let audit: SecurityAudit
    let outboxEnabled: Bool

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let admin = workspace.group("admin").add(middleware: RequireScope(.policiesAdmin, audit: audit))
        admin.get("policies", use: policiesPage)
        admin.post("policies/{action}", use: savePolicy)
        admin.get("dead-letters", use: deadLetters)
        admin.post("dead-letters/{id}/requeue", use: requeueJob)
    }

    func common(_ context: AppRequestContext, title: String) -> [String: Any?] {
        var view = ConsoleViews.common(context, title: title, outboxEnabled: outboxEnabled)
        view["nav_admin"] = true
        return view
    }

    @Sendable func policiesPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await policiesPage(context: context, change: nil)
    }

    func policiesPage(context: AppRequestContext, change: [String: Any]?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let stored = Dictionary(uniqueKeysWithValues: try await policies.list(workspaceID: workspace).map { ($0.action, $0) })
        var view = common(context, title: "Policies")
        view["policies"] = ActionName.allCases.map { action -> [String: Any] in
            let policy = stored[action.rawValue]
            return consoleView([
                "action": action.rawValue, "allowed": policy?.enabled == true, "auto": policy?.approval == .auto,
                "timeout": policy?.approvalTimeoutSeconds ?? 86400, "required": policy?.requiredApprovals ?? 1,
                "constraints": policy.map { $0.constraints.prettyText } ?? "{}",
                "notifications": policy.map { $0.notifications.json.prettyText } ?? "{}",
                "approvers": (policy?.approvers ?? []).map { "\($0.count) \($0.group)" }.joined(separator: ", "),
                "updated_at": policy?.updatedAt.map(RFC3339.format),
            ])
        }
        view["change"] = change
        return pages.html("console-policies", consoleView(view), status: status)
    }

    /// The form is the API's PUT body; the page then shows the policy before and after.
    @Sendable func savePolicy(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let action = try context.parameters.require("action")
        var body: [String: JSONValue] = ["enabled": .bool(form["enabled"] == "on"), "approval": .string(form["approval"] ?? "required")]
        var errors: [String] = []
        if let timeout = Int(form["approval_timeout_seconds"] ?? "") { body["approval_timeout_seconds"] = .integer(timeout) } else {
            errors.append("the approval timeout must be a whole number of seconds")
        }
        if let required = Int(form["required_approvals"] ?? "") { body["required_approvals"] = .integer(required) } else {
            errors.append("the number of approvals must be a whole number")
        }
        let constraintsText = form["constraints"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 } ?? "{}"
        if let constraints = try? JSONValue(parsing: constraintsText) { body["constraints"] = constraints } else {
            errors.append("the constraints must be a JSON object")
        }
        // The form carries the whole policy (a PUT replaces it): notification rules left
        // out would be reset.
        let notificationsText = form["notifications"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 } ?? "{}"
        if let notifications = try? JSONValue(parsing: notificationsText) { body["notifications"] = notifications } else {
            errors.append("the notifications must be a JSON object")
        }
        switch Self.approvers(form["approvers"] ?? "") {
        case .some(let rules): body["approvers"] = rules
        case nil: errors.append("the approvers must read like \"2 finance, 1 security\" (a count, then a group, for each rule)")
        }
        let before = try await policies.find(workspaceID: workspace, action: action)
        guard errors.isEmpty else { throw Problem(.unprocessableContent, detail: errors.joined(separator: "; ")) }
        defer { policyCache.invalidate(workspaceID: workspace, action: action) }
        let after: Policy
        do {
            after = try await changePolicy(action, to: body, in: workspace, actor: SecurityAudit.actor(principal, context: context))
        } catch let invalid as ValidationFailure {
            throw Problem(.unprocessableContent, detail: invalid.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
        }
        return try await policiesPage(
            context: context,
            change: ["action": action, "before": before.map { $0.json.prettyText } ?? "(not allowed)", "after": after.json.prettyText])
    }

    /// "2 finance, 1 security" as the API's `approvers`; empty text: none. Nil when a
    /// rule is not a count and a group (the use case then checks the names and counts).
    static func approvers(_ text: String) -> JSONValue? {
        var rules: [JSONValue] = []
        for part in text.split(separator: ",") {
            let words = part.split(whereSeparator: \.isWhitespace)
            guard words.count == 2, let count = Int(words[0]) else { return nil }
            rules.append(["group": .string(String(words[1])), "count": .integer(count)])
        }
        return .array(rules)
    }

    @Sendable func deadLetters(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let dead = try await jobs.list(workspaceID: workspace, status: .dead, action: nil, before: nil, limit: 100)
        var view = common(context, title: "Dead letters")
        view["jobs"] = dead.map { job in
            consoleView([
                "id": job.id, "action": job.action, "summary": ConsoleViews.summary(action: job.action, params: job.params),
                "code": job.statusCode, "reason": job.statusReason, "attempts": job.attempts,
                "unknown": job.statusCode == RequeueDeadLetter.deliveryUnknownCode, "at": RFC3339.format(job.updatedAt),
            ])
        }
        view["flash"] = request.uri.queryParameters.get("requeued").map {
            ["kind": "ok", "role": "status", "message": "Job \($0) is queued again."]
        }
        return pages.html("console-dead-letters", consoleView(view))
    }

    @Sendable func requeueJob(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        do {
            _ = try await requeue(
                id, in: workspace, confirmResend: form["confirm_resend"] == "on", actor: SecurityAudit.actor(principal, context: context),
                audit: RequestAuditTrail(audit: audit, context: context))
        } catch let refusal as RequeueDeadLetter.Refusal {
            throw DeadLettersController.problem(refusal, id: id)
        }
        return ConsolePages.redirect(to: "/console/w/\(workspace)/admin/dead-letters?requeued=\(id)")
    }
}
