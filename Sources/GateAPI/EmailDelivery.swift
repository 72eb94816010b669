import Actions
import GateCore
import Persistence

/// Sends a `gmail.send` job's message; returns what the provider answered (ids,
/// never the message). With `checkAlreadySent`, it first asks the provider whether an
/// earlier attempt of the job already sent it, and sends only if not.
protocol EmailDelivery: Sendable {
    func send(_ email: GmailSend, job: JobRecord, attempt: Int, checkAlreadySent: Bool) async throws -> JSONValue
}

/// Until Gmail is wired: every send is a retryable "not configured" failure, so
/// the job ends in the dead letters, from where it can be requeued.
struct UnconfiguredEmailDelivery: EmailDelivery {
    func send(_ email: GmailSend, job: JobRecord, attempt: Int, checkAlreadySent: Bool) async throws -> JSONValue {
        throw ExecutionFailure(.retryable, code: "gmail_not_configured", message: "Gmail is not configured for this workspace")
    }
}
