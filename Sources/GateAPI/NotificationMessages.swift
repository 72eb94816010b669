import Actions
import Approvals
import Foundation
import Gate
import GateCore

/// What a notification says (issue 27): the approval's preview as the console shows it
/// (an email's header lines and text body, its files; a task's fields), the deadline,
/// and where to decide — decision links, or only the console when the policy wants a
/// sign-in. Rendered as an email and as Slack Block Kit.
struct NotificationMessage {
    struct Links {
        var approve: String?
        var reject: String?
        var console: String
    }

    let delivery: DueDelivery
    let links: Links
    /// The job's params read back as the action's own (once: the preview, the text and
    /// the subject all come from it); nil if they no longer validate.
    let validated: ValidatedAction?
    /// The preview's lines, exactly the content a reviewer decides on.
    let previewLines: [String]

    init(delivery: DueDelivery, links: Links) {
        self.delivery = delivery
        self.links = links
        let job = delivery.job
        if case .success(let validated) = ActionRegistry.validate(action: job.action, params: job.params, form: .stored) {
            self.validated = validated
            previewLines = Self.previewLines(validated)
        } else {
            validated = nil
            previewLines = ["(the job's params cannot be shown; review it in the console)"]
        }
    }

    static func previewLines(_ validated: ValidatedAction) -> [String] {
        switch validated.typed {
        case .gmailSend(let email):
            var lines = MIMEMessage(email: email).headers(date: nil, messageID: nil).map { "\($0.name): \($0.value)" }
            lines.append("")
            lines.append(email.text.isEmpty && email.html != nil ? "(This message has only an HTML body; open it in the console.)" : email.text)
            if email.html != nil, !email.text.isEmpty { lines += ["", "(It also has an HTML body; the console shows it.)"] }
            if !email.files.isEmpty {
                lines.append("")
                lines.append("Files:")
                for file in email.files {
                    lines.append("  \(file.filename) (\(file.contentType), \(ConsoleViews.byteCount(file.size)), sha256 \(file.sha256.prefix(12))…)")
                }
            }
            return lines
        case .taskCreate:
            return validated.preview.prettyText.components(separatedBy: "\n")
        }
    }

    var headline: String {
        let job = delivery.job
        switch delivery.kind {
        case .reminder: return "Reminder: \(job.action) in \(job.workspaceID) still waits for your decision"
        case .escalation: return "Escalated to you: \(job.action) in \(job.workspaceID) waits for a decision"
        case .requested, .decided: return "Approval needed: \(job.action) in \(job.workspaceID)"
        }
    }

    var whoAsks: String {
        let job = delivery.job
        var who = "\(job.submittedByType):\(job.submittedBy)"
        if let person = job.actsFor { who += " (acting for \(person))" }
        return who
    }

    var deadline: String { RFC3339.format(delivery.approval.expiresAt) }

    var votesSoFar: String {
        let approvals = ApprovalRules.approvers(delivery.approval.castVotes).count
        return "\(approvals) of \(delivery.approval.requiredApprovals) approvals so far"
    }

    // MARK: Email

    func email() -> GmailSend? {
        guard let to = EmailAddress(delivery.address) else { return nil }
        var subject = headline
        if case .gmailSend(let email)? = validated?.typed { subject += " — \(email.subject)" }
        return GmailSend(to: [to], subject: String(subject.prefix(900)), text: text(), html: html())
    }

    func text() -> String {
        var lines = [
            "Hello \(delivery.displayName ?? delivery.person),", "",
            "\(whoAsks) asks to run \(delivery.job.action) in workspace \(delivery.job.workspaceID).",
            "It needs \(delivery.approval.requiredApprovals) approval(s) (\(votesSoFar)) and expires at \(deadline).", "",
            "----- What would run -----",
        ]
        lines += previewLines
        lines += ["----- end -----", "", "Payload hash: \(delivery.approval.payloadHash)", ""]
        if let approve = links.approve, let reject = links.reject {
            lines += [
                "Approve: \(approve)", "Reject:  \(reject)", "",
                "Each link opens a page where you confirm; nothing is decided by opening it. It works once, only for you,",
                "only for this exact content, until the approval's deadline.", "",
            ]
        } else {
            lines += ["Deciding on \(delivery.job.action) takes a console sign-in:", ""]
        }
        lines.append("Review it in the console: \(links.console)")
        return lines.joined(separator: "\n")
    }

    func html() -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var body = "<p>Hello \(escape(delivery.displayName ?? delivery.person)),</p>"
        body += "<p>\(escape(whoAsks)) asks to run <b>\(escape(delivery.job.action))</b> in workspace \(escape(delivery.job.workspaceID)). "
        body += "It needs \(delivery.approval.requiredApprovals) approval(s) (\(escape(votesSoFar))) and expires at \(escape(deadline)).</p>"
        body += "<pre style=\"white-space:pre-wrap;border:1px solid #ccc;padding:8px\">\(escape(previewLines.joined(separator: "\n")))</pre>"
        body += "<p style=\"font-size:small\">Payload hash: <code>\(escape(delivery.approval.payloadHash))</code></p>"
        if let approve = links.approve, let reject = links.reject {
            body += "<p><a href=\"\(escape(approve))\">Approve…</a> &nbsp; <a href=\"\(escape(reject))\">Reject…</a></p>"
            body += "<p style=\"font-size:small\">Each link opens a page where you confirm; it works once, only for you, only for this exact content.</p>"
        } else {
            body += "<p>Deciding on \(escape(delivery.job.action)) takes a console sign-in.</p>"
        }
        body += "<p><a href=\"\(escape(links.console))\">Review it in the console</a></p>"
        return "<!doctype html><html><body>\(body)</body></html>"
    }

    // MARK: Slack

    /// Slack's section text is mrkdwn: `&`, `<` and `>` are escaped so that content
    /// from the agent cannot form links or mentions.
    static func mrkdwn(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    func slackBlocks() -> JSONValue {
        // A section's text is at most 3,000 characters, counted after escaping.
        var preview = Self.mrkdwn(previewLines.joined(separator: "\n"))
        if preview.count > 2800 { preview = String(preview.prefix(2800)) + "\n… (the console shows the rest)" }
        var blocks: [JSONValue] = [
            section("*\(Self.mrkdwn(headline))*\n\(Self.mrkdwn(whoAsks)) · \(Self.mrkdwn(votesSoFar)) · expires \(deadline)"),
            section("```\(preview)```"),
        ]
        var buttons: [JSONValue] = []
        if let approve = links.approve, let reject = links.reject {
            // Approve decides here (the button's value is the person's link token);
            // Reject opens the confirm page, where the reason is written.
            buttons.append(["type": "button", "action_id": "approve", "style": "primary", "text": plain("Approve"), "value": .string(approve)])
            buttons.append(["type": "button", "action_id": "reject", "style": "danger", "text": plain("Reject…"), "url": .string(reject)])
        }
        buttons.append(["type": "button", "action_id": "open_console", "text": plain("Open in console"), "url": .string(links.console)])
        blocks.append(["type": "actions", "block_id": .string("approval:\(delivery.approval.id)"), "elements": .array(buttons)])
        return .array(blocks)
    }

    /// The message once decided: what it was about and who decided, without buttons.
    static func decidedBlocks(_ approval: ApprovalRecord, job: JobRecord) -> (text: String, blocks: JSONValue) {
        let voters = approval.votes.map { "\($0.reviewerPerson ?? $0.reviewer) (\($0.decision.rawValue))" }.joined(separator: ", ")
        let text = "\(job.action) in \(job.workspaceID): \(approval.status.rawValue)" + (voters.isEmpty ? "" : " — \(voters)")
        return (text, .array([
            ["type": "section", "text": ["type": "mrkdwn", "text": .string("*\(mrkdwn(text))*")]],
            ["type": "context", "elements": .array([["type": "mrkdwn", "text": .string("Approval \(approval.id) · job \(job.id)")]])],
        ]))
    }

    private func section(_ text: String) -> JSONValue { ["type": "section", "text": ["type": "mrkdwn", "text": .string(text)]] }
    private func plain(_ text: String) -> JSONValue { ["type": "plain_text", "text": .string(text)] }
}
