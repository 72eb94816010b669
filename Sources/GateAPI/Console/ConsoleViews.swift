import Actions
import Auth
import Approvals
import Foundation
import Gate
import GateCore
import Persistence

/// What the console's pages show of approvals and jobs, as Mustache views.
enum ConsoleViews {
    /// What every signed-in page's header needs: the person, the CSRF token of the
    /// sign-out form, the workspace and which sections the person may open.
    static func common(_ context: AppRequestContext, title: String, outboxEnabled: Bool) -> [String: Any?] {
        let workspace = context.workspace?.rawValue
        func has(_ scope: Scope) -> Bool { workspace.map { context.principal?.has(scope, in: $0) == true } ?? false }
        return [
            "title": title, "subject": context.consoleSession?.identity.subject, "csrf": context.consoleSession?.csrfToken,
            "workspace": workspace, "outbox_enabled": outboxEnabled, "can_audit": has(.auditRead),
            "can_export": has(.auditExport), "can_admin": has(.policiesAdmin) || has(.keysAdmin),
        ]
    }

    /// A queue row's "what": recipients and subject of an email, the title of a task.
    static func summary(action: String, params: JSONValue) -> String {
        guard case .object(let members) = params else { return "" }
        switch action {
        case ActionName.gmailSend.rawValue:
            var recipients: [String] = []
            for field in ["to", "cc", "bcc"] {
                if case .array(let items)? = members[field] {
                    recipients += items.compactMap { if case .string(let text) = $0 { text } else { nil } }
                }
            }
            let shown = recipients.prefix(3).joined(separator: ", ") + (recipients.count > 3 ? " and \(recipients.count - 3) more" : "")
            let subject = members["subject"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? ""
            return "To \(shown) — “\(subject)”"
        case ActionName.taskCreate.rawValue:
            let title = members["title"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? ""
            return "Task “\(title)”"
        default:
            return ""
        }
    }

    static func timeLeft(until date: Date, now: Date = Date()) -> String {
        let seconds = Int(date.timeIntervalSince(now))
        guard seconds > 0 else { return "expired" }
        let (days, hours, minutes) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        return "\(minutes)m \(seconds % 60)s"
    }

    static func row(_ entry: QueueEntry, now: Date) -> [String: Any] {
        consoleView([
            "id": entry.approvalID, "payload_hash": entry.payloadHash, "action": entry.action, "summary": summary(action: entry.action, params: entry.params),
            "submitter": entry.submittedBy, "acts_for": entry.actsFor, "approvals": entry.approvals,
            "required": entry.requiredApprovals, "expires_at": RFC3339.format(entry.expiresAt),
            "time_left": timeLeft(until: entry.expiresAt, now: now),
        ])
    }

    /// The reasons a reviewer picks from when rejecting (sent as the rejection's `code`).
    static let reasonCodes: [[String: String]] = [
        ["code": "wrong_recipient", "label": "Wrong or unexpected recipient"],
        ["code": "inaccurate_content", "label": "Content is wrong or misleading"],
        ["code": "policy_violation", "label": "Against our policy"],
        ["code": "not_needed", "label": "Not needed"],
        ["code": "other", "label": "Other (explain below)"],
    ]

    /// The approval page's preview: the email's header lines and bodies, or the task.
    static func preview(of job: JobRecord) -> [String: Any] {
        guard case .success(let validated) = ActionRegistry.validate(action: job.action, params: job.params, form: .stored) else { return [:] }
        switch validated.typed {
        case .gmailSend(let email):
            let message = MIMEMessage(email: email)
            return ["email": consoleView([
                "headers": message.headers(date: nil, messageID: nil).map { "\($0.name): \($0.value)" },
                "text": email.text, "has_html": email.html != nil,
                "files": email.files.map { file in
                    consoleView([
                        "filename": file.filename, "content_type": file.contentType, "sha256": file.sha256,
                        "size": byteCount(file.size), "content_id": file.contentID,
                    ])
                },
                "has_files": !email.files.isEmpty,
                "message_size": email.files.isEmpty ? nil : byteCount(MIMEMessage(email: email).encodedSizeAfterEachFile().last ?? 0),
            ])]
        case .taskCreate:
            return ["task": validated.preview.prettyText]
        }
    }

    /// `5.2 MB`, `830 kB`, `412 bytes` (decimal units, as Gmail states its limit).
    static func byteCount(_ bytes: Int) -> String {
        if bytes >= 1_000_000 { return String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        if bytes >= 1_000 { return "\(bytes / 1_000) kB" }
        return "\(bytes) bytes"
    }

    /// What the API's vote refusals mean, in words for the person who was refused.
    static func explain(_ refusal: VoteRefusal, approval: ApprovalRecord) -> String {
        switch refusal {
        case .notAPerson:
            return "Only people can decide; this session is not a person's."
        case .ownJob:
            return "You cannot decide on this job: you submitted it, or a key acting for you (or one you created) did. Another reviewer has to decide."
        case .conflictingVote(let previous):
            return "You already voted to \(previous.rawValue) this job; a vote cannot be changed."
        case .notPending(let status):
            return "This approval is already \(status.rawValue); nothing was changed."
        case .expired:
            return "This approval expired at \(RFC3339.format(approval.expiresAt)) before your decision arrived; the job will not run."
        case .payloadMismatch:
            return "What you reviewed is not what would run (the payload hash on your form differs from the job's). Nothing was decided; review the job again."
        case .notInApproverGroups:
            return "This approval needs \(ApproverRulesJSON.describe(approval.approverRules)), and you are in none of those groups (nor standing in for anyone who is). Nothing was decided."
        }
    }
}

extension JSONValue {
    /// Indented JSON for people to read.
    var prettyText: String {
        guard let data = jsonText.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data),
              let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return jsonText }
        return String(decoding: pretty, as: UTF8.self)
    }
}
