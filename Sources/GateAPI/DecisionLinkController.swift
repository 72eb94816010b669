import Actions
import Approvals
import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird

/// `/decide/{token}`: the decision links of notifications (issue 27). The GET shows
/// what the link would decide and a button; only the POST decides, so mail scanners and
/// link previews that open links decide nothing. The token is the capability (160
/// random bits, stored hashed); a POST must come from this site's own page.
struct DecisionLinkController: Sendable {
    let pages: ConsolePages
    let decide: DecideByLink
    let publicURL: String

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("{token}", use: show)
        group.post("{token}", use: confirm)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = try context.parameters.require("token")
        switch try await decide.open(token) {
        case .failure(let refusal):
            return result(Self.refusalPage(refusal), status: Self.status(refusal), consoleURL: nil)
        case .success(let opened):
            let approval = opened.approval, job = opened.job
            let consoleURL = console(approval)
            guard approval.status == .pending else {
                return result(
                    ("This approval is already \(approval.status.rawValue)", "Nothing is left to decide; the link was not used."),
                    status: .gone, consoleURL: consoleURL)
            }
            var view: [String: Any?] = [
                "title": "\(opened.link.decision == .approve ? "Approve" : "Reject") \(job.action)", "token": token,
                "approve": opened.link.decision == .approve, "person": opened.link.person, "workspace": approval.workspaceID,
                "action": job.action, "submitter": "\(job.submittedByType):\(job.submittedBy)", "acts_for": job.actsFor,
                "approvals": ApprovalRules.approvers(approval.castVotes).count, "required": approval.requiredApprovals,
                "expires_at": RFC3339.format(approval.expiresAt), "payload_hash": approval.payloadHash,
                "reason_codes": ConsoleViews.reasonCodes, "console_url": consoleURL,
            ]
            view.merge(ConsoleViews.preview(of: job).mapValues { $0 }) { $1 }
            return pages.html("decide-confirm", consoleView(view), headers: Self.headers)
        }
    }

    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        // Another site can make a browser post, though it cannot know the token; a
        // browser names the page a form came from, and it must be this one.
        if let origin = request.headers[.origin], !ConsoleController.isSameOrigin(origin, request: request) {
            throw Problem(.forbidden, detail: "A decision must be confirmed from this site's own page.")
        }
        let token = try context.parameters.require("token")
        let form = try await ConsoleForm.read(request, context: context)
        let actor = AuditActor(kind: .user, id: nil, ip: context.remoteIP, requestID: context.requestID)
        let confirmed: DecideByLink.Confirmed
        do {
            confirmed = try await decide.confirm(
                token, comment: form["reason"] ?? form["comment"], reasonCode: form["code"].flatMap { $0.isEmpty ? nil : $0 },
                channel: "email", actor: actor)
        } catch let failure as ValidationFailure {
            let message = failure.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
            return result(("Nothing was decided", "\(message). Go back, correct it and confirm again; the link is still good."),
                          status: .unprocessableContent, consoleURL: nil)
        }
        switch confirmed {
        case .refused(let refusal, let link):
            return result(Self.refusalPage(refusal), status: Self.status(refusal), consoleURL: link.map { console(workspace: $0.workspaceID, approval: $0.approvalID) })
        case .voted(let outcome, let link):
            let url = console(workspace: link.workspaceID, approval: link.approvalID)
            switch outcome {
            case .changed(let approval):
                let approvals = ApprovalRules.approvers(approval.castVotes).count
                let detail: String
                switch approval.status {
                case .approved: detail = "The approval is complete (\(approvals) of \(approval.requiredApprovals)); the job will run exactly as you saw it."
                case .rejected: detail = "The job is rejected and will not run; the agent receives your reason."
                default: detail = "Your vote is recorded: \(approvals) of \(approval.requiredApprovals) approvals so far."
                }
                return result((link.decision == .approve ? "You approved it" : "You rejected it", detail), status: .ok, consoleURL: url)
            case .repeated:
                return result(("You had already voted", "Your earlier vote stands; nothing changed."), status: .ok, consoleURL: url)
            case .refused(let refusal, let approval):
                return result(("Nothing was decided", ConsoleViews.explain(refusal, approval: approval)), status: .conflict, consoleURL: url)
            }
        }
    }

    static let headers: HTTPFields = [HTTPField.Name("X-Robots-Tag")!: "noindex, nofollow"]

    func result(_ text: (heading: String, detail: String), status: HTTPResponse.Status, consoleURL: String?) -> Response {
        pages.html(
            "decide-result",
            consoleView([
                "title": text.heading, "heading": text.heading, "detail": text.detail, "refused": status.code >= 400,
                "console_url": consoleURL,
            ]),
            status: status, headers: Self.headers)
    }

    func console(_ approval: ApprovalRecord) -> String { console(workspace: approval.workspaceID, approval: approval.id) }
    func console(workspace: String, approval: String) -> String { "\(publicURL)/console/w/\(workspace)/approvals/\(approval)" }

    static func status(_ refusal: DecisionLinkRefusal) -> HTTPResponse.Status {
        switch refusal {
        case .unknown: .notFound
        case .used, .expired: .gone
        case .wrongPerson, .signInRequired: .forbidden
        }
    }

    static func refusalPage(_ refusal: DecisionLinkRefusal) -> (heading: String, detail: String) {
        switch refusal {
        case .unknown: ("This link is not valid", "It may be mistyped, or the approval is no longer kept. Nothing was decided.")
        case .used: ("This link was already used", "Each link decides once. Nothing more was decided.")
        case .expired: ("This link has expired", "Links work for a limited time, never past the approval's deadline. Nothing was decided.")
        case .wrongPerson: ("This decision is not yours", "The link was sent to another reviewer. Nothing was decided.")
        case .signInRequired: ("Sign in to decide", "This action's policy asks reviewers to decide in the console. Nothing was decided.")
        }
    }
}
