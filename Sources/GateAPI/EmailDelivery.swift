import Actions
import Foundation
import Gate
import GateCore
import Persistence

/// Sends a `gmail.send` job's message; returns what the provider answered (ids,
/// never the message). With `checkAlreadySent`, it first asks the provider whether an
/// earlier attempt of the job already sent it, and sends only if not; `mayHaveDelivered`
/// and `beforeSending` as in `GmailSender.send`.
protocol EmailDelivery: Sendable {
    func send(
        _ email: GmailSend, job: JobRecord, attempt: Int, checkAlreadySent: Bool, mayHaveDelivered: Bool,
        beforeSending: @Sendable () async throws -> Void
    ) async throws -> JSONValue

    /// Sends a notification about `job` (issue 27) from the same account; `key` names
    /// the message for good (its Message-ID), so a retry finds one an earlier attempt
    /// sent instead of sending it twice. Returns the provider's message id.
    func sendNotification(_ email: GmailSend, job: JobRecord, key: String, attempt: Int) async throws -> String
}

/// `gmail.send` through the workspace's own Gmail account: its sealed credentials
/// are opened with SECRETS_KEY for each attempt (never cached in the clear beyond the
/// token provider's access tokens), and `GmailSender` does the rest.
struct GmailDelivery: EmailDelivery {
    let credentials: GmailCredentialStore
    let secrets: SecretBox?
    let sender: GmailSender
    /// The deployment's notification account (`NOTIFICATION_GMAIL_CREDENTIALS`): sends
    /// the notifications of a workspace without Gmail credentials, never its jobs.
    var notificationAccount: GoogleCredentials? = nil

    /// The name the deployment's account goes by in the sender's token cache and pacing,
    /// which no workspace id can take (ids have no spaces).
    static let deploymentAccount = "deployment notifications"

    func send(
        _ email: GmailSend, job: JobRecord, attempt: Int, checkAlreadySent: Bool, mayHaveDelivered: Bool,
        beforeSending: @Sendable () async throws -> Void
    ) async throws -> JSONValue {
        let opened = try await credentials(of: job.workspaceID)
        let sent = try await sender.send(
            email, workspaceID: job.workspaceID, credentials: opened, jobID: job.id, attempt: attempt,
            checkAlreadySent: checkAlreadySent, mayHaveDelivered: mayHaveDelivered, beforeSending: beforeSending)
        return [
            "message_id": .string(sent.messageID), "thread_id": sent.threadID.map(JSONValue.string) ?? .null,
            "rfc822_message_id": .string(sent.rfc822MessageID), "already_sent": .bool(sent.alreadySent),
        ]
    }

    func sendNotification(_ email: GmailSend, job: JobRecord, key: String, attempt: Int) async throws -> String {
        var owner = job.workspaceID
        let opened: GoogleCredentials
        let stored = try await credentials.find(workspaceID: job.workspaceID)
        if let notificationAccount, stored == nil {
            owner = Self.deploymentAccount
            opened = notificationAccount
        } else {
            opened = try open(stored, of: job.workspaceID)
        }
        return try await sender.send(
            email, workspaceID: owner, credentials: opened, jobID: key, attempt: attempt, checkAlreadySent: attempt > 1
        ).messageID
    }

    /// The workspace's credentials, opened for one attempt.
    private func credentials(of workspaceID: String) async throws -> GoogleCredentials {
        try open(try await credentials.find(workspaceID: workspaceID), of: workspaceID)
    }

    /// Stored credentials (nil: none), opened with SECRETS_KEY.
    private func open(_ stored: StoredGmailCredentials?, of workspaceID: String) throws -> GoogleCredentials {
        // Missing configuration is retryable: the job waits in the dead letters until an
        // admin sets credentials and requeues it.
        guard let secrets else {
            throw ExecutionFailure.retryable("gmail_not_configured", "SECRETS_KEY is not set on this server")
        }
        guard let stored else {
            throw ExecutionFailure.retryable("gmail_not_configured", "the workspace has no Gmail credentials")
        }
        do {
            return try GoogleCredentials.open(stored.sealed, with: secrets, workspaceID: workspaceID)
        } catch {
            throw ExecutionFailure.retryable(
                "gmail_credentials_unreadable", "the stored Gmail credentials cannot be opened with SECRETS_KEY; set them again")
        }
    }
}

/// `EMAIL_DELIVERY=outbox` (development): renders the message exactly as `GmailSender`
/// would and keeps it in the outbox instead of sending it, so that a newcomer sees a job
/// go all the way (docs/console.md "Development outbox").
struct OutboxDelivery: EmailDelivery {
    let outbox: DevOutboxStore
    let configuration: GmailSender.Configuration

    func send(
        _ email: GmailSend, job: JobRecord, attempt: Int, checkAlreadySent: Bool, mayHaveDelivered: Bool,
        beforeSending: @Sendable () async throws -> Void
    ) async throws -> JSONValue {
        let messageID = GmailSender.messageID(jobID: job.id, domain: configuration.messageIDDomain)
        let raw = MIMEMessage(email: email).render(date: Date(), messageID: messageID, boundary: GmailSender.boundary(jobID: job.id))
        try await beforeSending()
        let kept = try await outbox.keep(
            outboxID: job.id, jobID: job.id, workspaceID: job.workspaceID, messageID: messageID, recipients: email.recipients.map(\.address),
            subject: email.subject, raw: raw)
        return [
            "message_id": .string("outbox:\(job.id)"), "thread_id": .null, "rfc822_message_id": .string("<\(messageID)>"),
            "already_sent": .bool(!kept), "outbox": .bool(true),
        ]
    }

    func sendNotification(_ email: GmailSend, job: JobRecord, key: String, attempt: Int) async throws -> String {
        let messageID = GmailSender.messageID(jobID: key, domain: configuration.messageIDDomain)
        let raw = MIMEMessage(email: email).render(date: Date(), messageID: messageID, boundary: GmailSender.boundary(jobID: key))
        _ = try await outbox.keep(
            outboxID: key, jobID: job.id, workspaceID: job.workspaceID, messageID: messageID,
            recipients: email.recipients.map(\.address), subject: email.subject, raw: raw)
        return "outbox:\(key)"
    }
}
