import Actions
import Approvals
import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import Persistence

/// The reviewer's pages: the queue (live), an approval with its exact preview, and the
/// approve / reject forms. Decisions are `VoteOnApproval`, the API's own use case.
struct ConsoleApprovalsController: Sendable {
    let pages: ConsolePages
    let reads: TimedApprovalReads
    let vote: VoteOnApproval
    let events: JobEvents
    let waiters: ConcurrencyLimit
    let audit: SecurityAudit
    let outboxEnabled: Bool
    let download: DownloadApprovalFile
    let files: any JobAttachmentReading
    /// Who was told of the approval, and whether it reached them (issue 27).
    let notifications: TimedNotificationReads

    static let pageSize = 50

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let read = workspace.group("approvals").add(middleware: RequireScope(.approvalsRead, audit: audit))
        read.get(use: queue)
        read.get("stream", use: stream)
        read.get("{id}", use: approval)
        read.get("{id}/html", use: emailHTML)
        read.get("{id}/attachments/{sha256}", use: file)
        let decide = workspace.group("approvals").add(middleware: RequireScope(.approvalsDecide, audit: audit))
        decide.post("{id}/approve", use: approve)
        decide.post("{id}/reject", use: reject)
        decide.post("bulk", use: bulk)
    }

    func common(_ context: AppRequestContext, title: String) -> [String: Any?] {
        ConsoleViews.common(context, title: title, outboxEnabled: outboxEnabled)
    }

    /// `?action=&submitter=&min_age=&after=`; `?fragment=rows` answers the table alone
    /// (what the live update swaps in).
    @Sendable func queue(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let query = request.uri.queryParameters
        var filter = QueueFilter()
        filter.action = query.get("action").flatMap { $0.isEmpty ? nil : $0 }
        if let action = filter.action, ActionName(rawValue: action) == nil {
            throw Problem(.badRequest, detail: "There is no action called “\(action)”.")
        }
        filter.submitter = query.get("submitter").flatMap { $0.isEmpty ? nil : String($0.prefix(255)) }
        if let raw = query.get("min_age"), !raw.isEmpty {
            guard let minutes = Int(raw), (0...525_600).contains(minutes) else {
                throw Problem(.badRequest, detail: "“Waiting at least” must be a number of minutes.")
            }
            filter.minAgeMinutes = minutes
        }
        let after = query.get("after").flatMap { SortableID.isWellFormed($0, prefix: "apr") ? $0 : nil }
        let (entries, total) = try await reads.queue(workspaceID: workspace, filter: filter, after: after, limit: Self.pageSize + 1)
        let now = Date()
        var parameters = URLQuery()
        parameters.add("action", filter.action)
        parameters.add("submitter", filter.submitter)
        parameters.add("min_age", filter.minAgeMinutes.map(String.init))
        let next = entries.count > Self.pageSize ? entries[Self.pageSize - 1].approvalID : nil
        var view = common(context, title: "Queue")
        view["nav_queue"] = true
        view["rows"] = entries.prefix(Self.pageSize).map { ConsoleViews.row($0, now: now) }
        view["total"] = total > 1000 ? "1,000+" : String(total)
        view["next"] = next.map { "/console/w/\(workspace)/approvals?" + parameters.adding("after", $0) }
        view["refresh_url"] = "/console/w/\(workspace)/approvals?" + parameters.adding("fragment", "rows")
        view["actions"] = ActionName.allCases.map { ["name": $0.rawValue, "selected": $0.rawValue == filter.action] }
        let canDecide = context.principal?.has(.approvalsDecide, in: workspace) == true
        view["can_decide"] = canDecide
        view["bulk"] = canDecide && !entries.isEmpty
        view["reason_codes"] = ConsoleViews.reasonCodes
        view["submitter"] = filter.submitter
        view["min_age"] = filter.minAgeMinutes
        let template = query.get("fragment") == "rows" ? "console-queue-rows" : "console-queue"
        return pages.html(template, consoleView(view))
    }

    @Sendable func approval(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (approval, job) = try await load(context)
        let deliveries = try await notifications.deliveries(workspaceID: approval.workspaceID, approvalID: approval.id)
        return page(approval: approval, job: job, context: context, remoteImages: request.uri.queryParameters.get("images") == "remote",
                    flash: Self.flash(request.uri.queryParameters.get("done")), deliveries: deliveries)
    }

    func page(
        approval: ApprovalRecord, job: JobRecord, context: AppRequestContext, remoteImages: Bool = false,
        flash: [String: String]?, status: HTTPResponse.Status = .ok, deliveries: [DeliveryRecord] = []
    ) -> Response {
        var view = common(context, title: "\(approval.action) · approval")
        for (key, value) in ConsoleViews.preview(of: job) { view[key] = value }
        view.merge([
            "id": approval.id, "job_id": job.id, "action": approval.action, "status": approval.status.rawValue,
            "submitter": "\(job.submittedByType):\(job.submittedBy)", "acts_for": job.actsFor,
            "approvals": ApprovalRules.approvers(approval.castVotes).count, "required": approval.requiredApprovals,
            "approvers": approval.approverRules.isEmpty ? nil : ApproverRulesJSON.describe(approval.approverRules),
            "expires_at": RFC3339.format(approval.expiresAt), "pending": approval.status == .pending,
            "payload_hash": approval.payloadHash,
            "votes": approval.votes.map { vote in
                consoleView(["reviewer": vote.reviewerPerson ?? vote.reviewer, "decision": vote.decision == .approve ? "approved" : "rejected",
                             "at": RFC3339.format(vote.createdAt), "comment": vote.comment,
                             "standing_for": (vote.standings ?? []).contains(where: \.delegated)
                                ? vote.standings?.filter(\.delegated).map(\.person).joined(separator: ", ") : nil])
            },
            "reason": approval.reason, "reason_code": approval.reasonCode,
            "decidable": approval.status == .pending && context.principal?.has(.approvalsDecide, in: approval.workspaceID) == true,
            "reason_codes": ConsoleViews.reasonCodes, "remote_images": remoteImages, "flash": flash,
            "notifications": deliveries.map { delivery in
                consoleView([
                    "kind": delivery.kind.rawValue, "person": delivery.person, "channel": delivery.channel.rawValue,
                    "address": delivery.address, "status": delivery.status, "attempts": delivery.attempts, "error": delivery.lastError,
                    "at": RFC3339.format(delivery.deliveredAt ?? delivery.createdAt),
                ])
            },
            "has_notifications": !deliveries.isEmpty,
        ]) { $1 }
        return pages.html("console-approval", consoleView(view), status: status)
    }

    static func flash(_ done: String?) -> [String: String]? {
        switch done {
        case "approved": return ["kind": "ok", "role": "status", "message": "You approved this job."]
        case "rejected": return ["kind": "ok", "role": "status", "message": "You rejected this job; the agent receives your reason."]
        case "voted": return ["kind": "ok", "role": "status", "message": "Your approval is recorded; the job needs more approvals before it runs."]
        default: return nil
        }
    }

    /// The email's HTML body alone, for the approval page's sandboxed frame: no script
    /// runs (CSP `sandbox`, and the frame's own `sandbox`), nothing is fetched unless the
    /// reviewer asked for remote images, and it is framed only by the console.
    @Sendable func emailHTML(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, job) = try await load(context)
        guard case .success(let validated) = ActionRegistry.validate(action: job.action, params: job.params, form: .stored),
              case .gmailSend(let email) = validated.typed, let html = email.html
        else { throw Problem(.notFound, detail: "This job has no HTML body.") }
        let images = request.uri.queryParameters.get("images") == "remote" ? "img-src data: https: http:" : "img-src data:"
        let shown = try await Self.inliningImages(of: email, in: html, files: files, job: job)
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        ConsolePages.securityHeaders(
            &headers, csp: "sandbox; default-src 'none'; style-src 'unsafe-inline'; \(images); frame-ancestors 'self'; form-action 'none'")
        headers[.xFrameOptions] = "SAMEORIGIN"
        headers[.referrerPolicy] = "no-referrer"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: shown)))
    }

    /// The HTML with each `cid:` reference to an inline image replaced by the image as a
    /// `data:` URL, so the reviewer sees the images the recipient will (the frame's CSP
    /// allows `data:` images only). Inline parts are raster images (`AttachmentTypes.inline`).
    /// Only the inline images are read, each checked against its SHA-256 (the message's
    /// attachments, up to 25 MB, are not needed to show the HTML).
    static func inliningImages(of email: GmailSend, in html: String, files: any JobAttachmentReading, job: JobRecord) async throws -> String {
        var shown = html
        for image in email.inline {
            guard let id = image.contentID,
                let bytes = try await files.content(workspaceID: job.workspaceID, jobID: job.id, sha256: image.sha256),
                EmailAttachment.sha256(of: bytes) == image.sha256
            else { continue }
            let url = "data:\(image.contentType);base64,\(bytes.base64EncodedString())"
            shown = shown.replacingOccurrences(of: "cid:\(id)", with: url, options: .caseInsensitive)
        }
        return shown
    }

    /// One file of the message, as a download (the API's `FileDownload`).
    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        let sha256 = try context.parameters.require("sha256")
        guard SortableID.isWellFormed(id, prefix: "apr"), let file = try await download(workspace: workspace, approvalID: id, sha256: sha256)
        else { throw Problem(.notFound, detail: "This approval has no such file.") }
        return FileDownload.response(file)
    }

    @Sendable func approve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let comment = form["comment"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        return try await decide(
            VoteOnApproval.Ballot(decision: .approve, comment: comment, payloadHashSeen: form["payload_hash"] ?? ""), context: context)
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let code = form["code"].flatMap { $0.isEmpty ? nil : $0 }
        return try await decide(
            VoteOnApproval.Ballot(decision: .reject, comment: form["reason"] ?? "", reasonCode: code, payloadHashSeen: form["payload_hash"] ?? ""),
            context: context)
    }

    /// The vote, as the API casts it; the payload hash on the form is always checked
    /// (an empty one is a mismatch), so a decision is bound to what the page showed.
    private func decide(_ ballot: VoteOnApproval.Ballot, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let (_, job) = try await load(context)
        let id = try context.parameters.require("id")
        let outcome: DecisionOutcome?
        do {
            outcome = try await vote(
                ballot, on: id, in: job.workspaceID, by: Reviewer(principal: principal.qualifiedID, person: principal.actsFor),
                actor: SecurityAudit.actor(principal, context: context))
        } catch let invalid as ValidationFailure {
            throw Problem(.unprocessableContent, detail: invalid.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
        } catch is VoteOnApproval.Contended {
            throw Problem(.serviceUnavailable, detail: "Other votes on this approval kept arriving at the same moment; try again.")
        }
        switch outcome {
        case nil:
            throw Problem(.notFound, detail: "There is no such approval in this workspace.")
        case .changed(let approval)?, .repeated(let approval)?:
            let done = approval.status == .pending ? "voted" : approval.status == .approved ? "approved" : "rejected"
            return ConsolePages.redirect(to: "/console/w/\(job.workspaceID)/approvals/\(id)?done=\(done)")
        case .refused(let refusal, let approval)?:
            let status: HTTPResponse.Status = [.ownJob, .notAPerson, .notInApproverGroups].contains(refusal) ? .forbidden : .conflict
            return page(
                approval: approval, job: job, context: context,
                flash: ["kind": "error", "role": "alert", "message": ConsoleViews.explain(refusal, approval: approval)], status: status)
        }
    }

    private func load(_ context: AppRequestContext) async throws -> (ApprovalRecord, JobRecord) {
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        guard SortableID.isWellFormed(id, prefix: "apr"), let found = try await reads.findWithJob(workspaceID: workspace, id: id) else {
            throw Problem(.notFound, detail: "There is no such approval in this workspace.")
        }
        return found
    }
}
