import Foundation
import Gate
import HTTPTypes
import Hummingbird
import Persistence

/// The compliance pages: the audit log searched with the API's filters, its export
/// (the API's own streamed export, with the session as credential) and the chain check.
struct ConsoleAuditController: Sendable {
    let pages: ConsolePages
    let audit: AuditController
    let securityAudit: SecurityAudit

    static let pageSize = 100

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let read = workspace.group("audit").add(middleware: RequireScope(.auditRead, audit: securityAudit))
        read.get(use: search)
        read.get("verify", use: verify)
        workspace.group("audit/export").add(middleware: RequireScope(.auditExport, audit: securityAudit)).get(use: audit.export)
    }

    let outboxEnabled: Bool

    func common(_ context: AppRequestContext, title: String) -> [String: Any?] {
        var view = ConsoleViews.common(context, title: title, outboxEnabled: outboxEnabled)
        view["nav_audit"] = true
        return view
    }

    /// The API's filters (`from`, `to`, `action`, `actor`, `target`, `outcome`); a form's
    /// empty fields mean "any".
    static func filter(_ request: Request) throws -> (AuditFilter, URLQuery) {
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? { query.get(name).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        var filter = AuditFilter()
        filter.from = try AuditParameters.timestamp("from", value("from"))
        filter.to = try AuditParameters.timestamp("to", value("to"))
        filter.action = try AuditParameters.text("action", value("action"), maxLength: 200)
        filter.actorID = try AuditParameters.text("actor", value("actor"), maxLength: 512)
        filter.targetID = try AuditParameters.text("target", value("target"), maxLength: 512)
        if let outcome = value("outcome") {
            guard ["success", "denied", "failure"].contains(outcome) else { throw AuditParameters.bad("outcome", "must be success, denied or failure") }
            filter.outcome = outcome
        }
        var kept = URLQuery()
        for name in ["from", "to", "action", "actor", "target", "outcome"] { kept.add(name, value(name)) }
        return (filter, kept)
    }

    @Sendable func search(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let (filter, kept) = try Self.filter(request)
        let after = try AuditParameters.cursor(request)
        let records = try await audit.log.page(workspaceID: workspace, filter: filter, after: after, limit: Self.pageSize + 1)
        var view = common(context, title: "Audit log")
        view.merge([
            "events": records.prefix(Self.pageSize).map(Self.row),
            "next": records.count > Self.pageSize ? "/console/w/\(workspace)/audit?" + kept.adding("cursor", String(records[Self.pageSize - 1].position)) : nil,
            "from": filter.from, "to": filter.to, "action": filter.action, "actor": filter.actorID, "target": filter.targetID,
            "outcomes": ["success", "denied", "failure"].map { ["name": $0, "selected": $0 == filter.outcome] },
            "export_jsonl": "/console/w/\(workspace)/audit/export?format=jsonl", "export_csv": "/console/w/\(workspace)/audit/export?format=csv",
        ]) { $1 }
        return pages.html("console-audit", consoleView(view))
    }

    static func row(_ record: AuditRecord) -> [String: Any] {
        let text = record.text
        return [
            "position": record.position, "at": text.occurredAt, "actor": text.actor, "action": text.action, "target": text.target,
            "outcome": text.outcome, "details": text.details == "{}" ? "" : text.details,
        ]
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let slot = try audit.place(workspace: workspace)
        defer { withExtendedLifetime(slot) {} }
        let result = try await audit.log.verify(workspaceID: workspace)
        var view = common(context, title: "Audit chain")
        view.merge([
            "ok": result.ok, "checked": result.eventsChecked, "unsealed": result.unsealed, "reason": result.reason,
            "first_bad": result.firstBadPosition, "head_position": result.headPosition, "head_hash": result.headHash,
        ]) { $1 }
        return pages.html("console-audit-verify", consoleView(view))
    }
}
