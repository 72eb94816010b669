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
}

/// `gmail.send` through the workspace's own Gmail account: its sealed credentials
/// are opened with SECRETS_KEY for each attempt (never cached in the clear beyond the
/// token provider's access tokens), and `GmailSender` does the rest.
struct GmailDelivery: EmailDelivery {
    let credentials: GmailCredentialStore
    let secrets: SecretBox?
    let sender: GmailSender

    func send(
        _ email: GmailSend, job: JobRecord, attempt: Int, checkAlreadySent: Bool, mayHaveDelivered: Bool,
        beforeSending: @Sendable () async throws -> Void
    ) async throws -> JSONValue {
        // Missing configuration is retryable: the job waits in the dead letters until an
        // admin sets credentials and requeues it.
        guard let secrets else {
            throw ExecutionFailure.retryable("gmail_not_configured", "SECRETS_KEY is not set on this server")
        }
        guard let stored = try await credentials.find(workspaceID: job.workspaceID) else {
            throw ExecutionFailure.retryable("gmail_not_configured", "the workspace has no Gmail credentials")
        }
        let opened: GoogleCredentials
        do {
            opened = try GoogleCredentials.open(stored.sealed, with: secrets, workspaceID: job.workspaceID)
        } catch {
            throw ExecutionFailure.retryable(
                "gmail_credentials_unreadable", "the stored Gmail credentials cannot be opened with SECRETS_KEY; set them again")
        }
        let sent = try await sender.send(
            email, workspaceID: job.workspaceID, credentials: opened, jobID: job.id, attempt: attempt,
            checkAlreadySent: checkAlreadySent, mayHaveDelivered: mayHaveDelivered, beforeSending: beforeSending)
        return [
            "message_id": .string(sent.messageID), "thread_id": sent.threadID.map(JSONValue.string) ?? .null,
            "rfc822_message_id": .string(sent.rfc822MessageID), "already_sent": .bool(sent.alreadySent),
        ]
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
            jobID: job.id, workspaceID: job.workspaceID, messageID: messageID, recipients: email.recipients.map(\.address),
            subject: email.subject, raw: raw)
        return [
            "message_id": .string("outbox:\(job.id)"), "thread_id": .null, "rfc822_message_id": .string("<\(messageID)>"),
            "already_sent": .bool(!kept), "outbox": .bool(true),
        ]
    }
}
