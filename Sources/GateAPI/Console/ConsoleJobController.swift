import Actions
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// A job's page: its status and result, its timeline from the audit log (submitted,
/// votes, decision, execution attempts with their error codes) and its webhook deliveries.
struct ConsoleJobController: Sendable {
    let pages: ConsolePages
    let jobs: TimedJobReads
    let approvals: ApprovalStore
    let webhooks: WebhookStore
    let log: ReadAuditLog<TimedAuditChain>
    let audit: SecurityAudit
    let timeout: Duration
    let outboxEnabled: Bool

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        workspace.group("jobs").add(middleware: RequireScope(.jobsRead, .approvalsRead, audit: audit)).get("{id}", use: job)
    }

    @Sendable func job(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        guard SortableID.isWellFormed(id, prefix: "job"), let job = try await jobs.find(workspaceID: workspace, id: id) else {
            throw Problem(.notFound, detail: "There is no such job in this workspace.")
        }
        let approvals = self.approvals, webhooks = self.webhooks
        let (approvalID, deliveries) = try await withTimeout(timeout, dependency: "postgres") {
            async let approval = approvals.approvalID(workspaceID: workspace, jobID: id)
            async let deliveries = webhooks.deliveries(workspaceID: workspace, jobID: id)
            return (try await approval, try await deliveries)
        }
        // The job's own events and its approval's, in chain order.
        var events: [AuditRecord] = []
        for target in [id, approvalID].compactMap({ $0 }) {
            var filter = AuditFilter()
            filter.targetID = target
            events += try await log.page(workspaceID: workspace, filter: filter, after: 0, limit: 200)
        }
        events.sort { $0.position < $1.position }
        var view = ConsoleViews.common(context, title: "Job \(id)", outboxEnabled: outboxEnabled)
        view.merge([
            "id": id, "action": job.action, "status": job.status.rawValue, "status_reason": job.statusReason, "status_code": job.statusCode,
            "attempts": job.attempts, "approval_id": approvalID, "summary": ConsoleViews.summary(action: job.action, params: job.params),
            "submitter": "\(job.submittedByType):\(job.submittedBy)", "acts_for": job.actsFor,
            "created_at": RFC3339.format(job.createdAt), "result": job.result.map(\.prettyText),
            "events": events.map(ConsoleAuditController.row), "has_deliveries": !deliveries.isEmpty,
            "deliveries": deliveries.map { delivery in
                consoleView([
                    "event": delivery.event, "url": delivery.url, "status": delivery.status, "attempts": delivery.attempts,
                    "error": delivery.lastError, "at": RFC3339.format(delivery.createdAt),
                ])
            },
        ]) { $1 }
        return pages.html("console-job", consoleView(view))
    }
}
