import Actions
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/console/w/{ws}/outbox`: what `gmail.send` jobs "sent" with `EMAIL_DELIVERY=outbox`
/// (development). Only routed when the outbox is on; reading it takes `jobs:read` or
/// `approvals:read`, as the messages are the jobs' params.
struct ConsoleOutboxController: Sendable {
    let pages: ConsolePages
    let outbox: TimedOutboxReads
    let audit: SecurityAudit

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let read = workspace.group("outbox").add(middleware: RequireScope(.jobsRead, .approvalsRead, audit: audit))
        read.get(use: list)
        read.get("{job}", use: message)
        read.get("{job}/message.eml", use: eml)
    }

    func common(_ context: AppRequestContext, title: String) -> [String: Any?] {
        var view = ConsoleViews.common(context, title: title, outboxEnabled: true)
        view["nav_outbox"] = true
        return view
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        var view = common(context, title: "Outbox")
        view["messages"] = try await outbox.list(workspaceID: workspace, limit: 100).map { message in
            ["job_id": message.jobID, "to": message.recipients.joined(separator: ", "), "subject": message.subject,
             "at": RFC3339.format(message.createdAt)]
        }
        return pages.html("console-outbox", consoleView(view))
    }

    @Sendable func message(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let job = try context.parameters.require("job")
        guard let message = try await outbox.find(workspaceID: workspace, jobID: job) else {
            throw Problem(.notFound, detail: "The outbox has no message of that job.")
        }
        var view = common(context, title: message.subject)
        view.merge([
            "job_id": message.jobID, "to": message.recipients.joined(separator: ", "), "message_subject": message.subject,
            "at": RFC3339.format(message.createdAt), "raw": message.raw,
        ]) { $1 }
        return pages.html("console-outbox-message", consoleView(view))
    }

    /// The message byte for byte (`message/rfc822`), to open in a mail client: how its
    /// attachments and inline images look to a recipient.
    @Sendable func eml(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let job = try context.parameters.require("job")
        guard let message = try await outbox.find(workspaceID: workspace, jobID: job) else {
            throw Problem(.notFound, detail: "The outbox has no message of that job.")
        }
        var headers = HTTPFields()
        headers[.contentType] = "message/rfc822"
        headers[.contentDisposition] = "attachment; filename=\"\(message.jobID).eml\""
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
        headers[.cacheControl] = "private, no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: message.raw)))
    }
}
