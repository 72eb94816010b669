import Foundation
import Gate
import Hummingbird

/// Bulk decisions from the queue: the selection, one confirmation page, then
/// `DecideInBulk` (the API's `POST …/approvals/bulk`) and a page of what was decided
/// and what was skipped, in words.
extension ConsoleApprovalsController {
    @Sendable func bulk(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.readChecked(request, context: context, audit: audit)
        let workspace = try context.requireWorkspace()
        let principal = try context.requirePrincipal()
        // Each selected row is "<approval id>:<the payload hash the queue showed>".
        let items = form.all("approval").map { value -> DecideInBulk.Item in
            let parts = value.split(separator: ":", maxSplits: 1)
            return DecideInBulk.Item(approvalID: String(parts.first ?? ""), payloadHashSeen: parts.count > 1 ? String(parts[1]) : "")
        }
        guard !items.isEmpty else { throw Problem(.unprocessableContent, detail: "Select at least one approval in the queue first.") }
        let reject = form["decision"] == "reject"
        let text = form["text"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        guard form["confirm"] == "yes" else {
            if reject && text == nil { throw Problem(.unprocessableContent, detail: "A rejection needs a reason: write what the agents should know.") }
            if items.count > DecideInBulk.maxApprovals {
                throw Problem(.unprocessableContent, detail: "You selected \(items.count); decide at most \(DecideInBulk.maxApprovals) at once.")
            }
            var view = common(context, title: "Confirm")
            view.merge([
                "verb": reject ? "Reject" : "Approve", "count": items.count, "one": items.count == 1, "decision": reject ? "reject" : "approve",
                "code": form["code"] ?? "other", "text": text, "reject": reject,
                "items": form.all("approval").map { ["value": $0] },
            ]) { $1 }
            return pages.html("console-bulk-confirm", consoleView(view))
        }
        let ballot: VoteOnApproval.Ballot =
            reject
            ? .init(decision: .reject, comment: text ?? "", reasonCode: form["code"].flatMap { $0.isEmpty ? nil : $0 })
            : .init(decision: .approve, comment: text)
        let outcome = try await ApprovalsController.decideInBulk(
            DecideInBulk(vote: vote), ballot, items, workspace: workspace, principal: principal,
            actor: SecurityAudit.actor(principal, context: context))
        var view = common(context, title: "Decided")
        view.merge([
            "decided_count": outcome.decided.count, "skipped_count": outcome.skipped.count, "has_skipped": !outcome.skipped.isEmpty,
            "decided": outcome.decided.map { ["id": $0.id, "status": $0.status == .pending ? "your approval counted; more are needed" : $0.status.rawValue] },
            "skipped": outcome.skipped.map { ["id": $0.approvalID, "why": Self.explain($0.reason)] },
        ]) { $1 }
        return pages.html("console-bulk-result", consoleView(view))
    }

    static func explain(_ skip: DecideInBulk.Skip) -> String {
        switch skip {
        case .notFound: "not an approval of this workspace (any more)"
        case .ownJob: "you submitted it (or a key acting for you did); another reviewer has to decide"
        case .notAPerson: "only people can decide"
        case .alreadyDecided: "it was already decided"
        case .alreadyVoted: "you had already voted on it"
        case .expired: "it expired before your decision"
        case .payloadHashMismatch: "its payload changed since the queue showed it; review it again"
        case .notInApproverGroups: "it needs approvers from groups you are not in"
        case .contended: "other votes kept arriving at the same moment; try it again"
        }
    }
}
