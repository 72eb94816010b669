import Approvals
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/dead-letters`: jobs that used up their attempts, for a
/// workspace admin (`policies:admin`) to inspect and requeue once the cause is fixed.
struct DeadLettersController: Sendable {
    let jobs: TimedJobReads
    let requeueDeadLetter: RequeueDeadLetter
    let audit: SecurityAudit

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let admin = workspace.group("dead-letters").add(middleware: RequireScope(.policiesAdmin, audit: audit))
        admin.get(use: list)
        admin.post("{id}/requeue", use: requeue)
    }

    /// Newest first, with the last error in `status_code` / `status_reason`.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<JobView>> {
        let workspace = try context.requireWorkspace()
        let limit = try Pagination.limit(request)
        let cursor = try Pagination.cursor(request, idPrefix: "job")
        let records = try await jobs.list(workspaceID: workspace, status: .dead, action: nil, before: cursor, limit: limit + 1)
        return JSONResponse(body: Page(records, limit: limit, cursor: \.id, view: JobView.init))
    }

    /// Back to `approved` (gated jobs) or `queued`, with a fresh set of attempts; audited.
    /// A job parked as `delivery_unknown` (an earlier attempt may have sent it and the
    /// provider cannot be asked) needs `?confirm_resend=true`: the admin accepts that the
    /// recipients may get it twice. Without it: 409, audited.
    @Sendable func requeue(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<JobView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        let confirmResend: Bool
        switch request.uri.queryParameters.get("confirm_resend") {
        case nil, "false"?: confirmResend = false
        case "true"?: confirmResend = true
        default: throw Problem(.badRequest, detail: "confirm_resend must be true or false")
        }
        do {
            let job = try await requeueDeadLetter(
                id, in: workspace, confirmResend: confirmResend, actor: SecurityAudit.actor(principal, context: context),
                audit: RequestAuditTrail(audit: audit, context: context))
            return JSONResponse(body: JobView(job))
        } catch let refusal as RequeueDeadLetter.Refusal {
            throw Self.problem(refusal, id: id)
        }
    }

    /// The use case's refusals as answers (the API's and the console's).
    static func problem(_ refusal: RequeueDeadLetter.Refusal, id: String) -> Problem {
        switch refusal {
        case .notFound: return Problem(.notFound, detail: "no job \(id) in this workspace")
        case .notDead(let status):
            return Problem(.conflict, detail: "the job is \(status.rawValue); only a dead job can be requeued")
        case .resendNotConfirmed:
            return Problem(
                .conflict,
                detail: "an earlier attempt may have delivered this job and the provider cannot be asked; requeue with "
                    + "confirm_resend=true to send it again anyway")
        }
    }
}
