import Actions
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/console/w/{ws}/outbox`: what `gmail.send` jobs and approval notifications "sent"
/// with `EMAIL_DELIVERY=outbox` (development). A job's message is known by the job's id,
/// a notification by `ntf-<delivery>`. Only routed when the outbox is on; reading it takes `jobs:read` or
/// `approvals:read`, as the messages are the jobs' params.
struct ConsoleOutboxController: Sendable {
    let pages: ConsolePages
    let outbox: TimedOutboxReads
    let audit: SecurityAudit
    /// Links to this server in a message (a notification's decision links) are made
    /// clickable; no other link is.
    let publicURL: String

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let read = workspace.group("outbox").add(middleware: RequireScope(.jobsRead, .approvalsRead, audit: audit))
        read.get(use: list)
        read.get("{message}", use: message)
        read.get("{message}/message.eml", use: eml)
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
            ["outbox_id": message.outboxID, "job_id": message.jobID, "to": message.recipients.joined(separator: ", "), "subject": message.subject,
             "at": RFC3339.format(message.createdAt)]
        }
        return pages.html("console-outbox", consoleView(view))
    }

    @Sendable func message(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("message")
        guard let message = try await outbox.find(workspaceID: workspace, outboxID: id) else {
            throw Problem(.notFound, detail: "The outbox has no such message.")
        }
        var view = common(context, title: message.subject)
        let text = Self.textBody(of: message.raw)
        view.merge([
            "outbox_id": message.outboxID, "job_id": message.jobID, "to": message.recipients.joined(separator: ", "), "message_subject": message.subject,
            "at": RFC3339.format(message.createdAt), "raw": message.raw,
            "text_lines": text.map { lines in lines.map { line in ["segments": Self.segments(of: line, linking: publicURL)] } },
            "has_text": text != nil,
        ]) { $1 }
        return pages.html("console-outbox-message", consoleView(view))
    }

    /// The message byte for byte (`message/rfc822`), to open in a mail client: how its
    /// attachments and inline images look to a recipient.
    @Sendable func eml(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("message")
        guard let message = try await outbox.find(workspaceID: workspace, outboxID: id) else {
            throw Problem(.notFound, detail: "The outbox has no such message.")
        }
        var headers = HTTPFields()
        headers[.contentType] = "message/rfc822"
        headers[.contentDisposition] = "attachment; filename=\"\(message.outboxID).eml\""
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
        headers[.cacheControl] = "private, no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: message.raw)))
    }

    /// The message's first `text/plain` part, decoded (GateAPI writes it as base64).
    static func textBody(of raw: String) -> [String]? {
        let lines = raw.components(separatedBy: "\r\n")
        guard let start = lines.firstIndex(where: { $0.lowercased().hasPrefix("content-type: text/plain") }),
              let blank = lines[start...].firstIndex(of: "")
        else { return nil }
        let headers = lines[start..<blank].joined(separator: "\n").lowercased()
        guard headers.contains("content-transfer-encoding: base64") else { return nil }
        let encoded = lines[(blank + 1)...].prefix { !$0.isEmpty && !$0.hasPrefix("--") }.joined()
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else { return nil }
        return text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
    }

    /// A line as text and links, only links to `base` being links.
    static func segments(of line: String, linking base: String) -> [[String: String]] {
        var segments: [[String: String]] = []
        var rest = Substring(line)
        while let range = rest.range(of: base + "/") {
            let end = rest[range.lowerBound...].firstIndex(where: { $0 == " " || $0 == "\t" }) ?? rest.endIndex
            if range.lowerBound > rest.startIndex { segments.append(["text": String(rest[..<range.lowerBound])]) }
            segments.append(["link": String(rest[range.lowerBound..<end])])
            rest = rest[end...]
        }
        if !rest.isEmpty || segments.isEmpty { segments.append(["text": String(rest)]) }
        return segments
    }
}
