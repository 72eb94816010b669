import Approvals

/// Where dead letters go back to work.
public protocol DeadLetterStore: Sendable {
    /// Back to `approved` (gated jobs) or `queued` with fresh attempts, audited, if the
    /// job is dead — and, when its delivery is unknown (`RequeueDeadLetter.deliveryUnknownCode`),
    /// only with `confirmResend`. nil if nothing was requeued.
    func requeue(workspaceID: String, jobID: String, confirmResend: Bool, actor: AuditActor) async throws -> JobRecord?
    func find(workspaceID: String, id: String) async throws -> JobRecord?
}

/// Requeueing a dead letter once its cause is fixed (a workspace admin). A job parked
/// because an earlier attempt may have delivered it, and the provider cannot be asked,
/// needs the admin to confirm a possible second delivery; without it the requeue is
/// refused and audited (`job.requeue_refused`).
public struct RequeueDeadLetter: Sendable {
    /// The dead-letter code of a job whose delivery could not be checked.
    public static let deliveryUnknownCode = "delivery_unknown"

    public enum Refusal: Error, Sendable, Equatable {
        case notFound
        /// Only a dead job can be requeued.
        case notDead(JobStatus)
        /// Its delivery is unknown and the admin did not confirm a resend.
        case resendNotConfirmed
    }

    let store: any DeadLetterStore

    public init(store: any DeadLetterStore) {
        self.store = store
    }

    public func callAsFunction(
        _ jobID: String, in workspace: String, confirmResend: Bool, actor: AuditActor, audit: any AuditTrail
    ) async throws -> JobRecord {
        if let requeued = try await store.requeue(workspaceID: workspace, jobID: jobID, confirmResend: confirmResend, actor: actor) {
            return requeued
        }
        guard let job = try await store.find(workspaceID: workspace, id: jobID) else { throw Refusal.notFound }
        guard job.status == .dead, job.statusCode == Self.deliveryUnknownCode else { throw Refusal.notDead(job.status) }
        try await audit.record(
            AuditEvent(
                workspaceID: workspace, actor: actor, action: "job.requeue_refused", targetType: "job", targetID: jobID,
                outcome: .denied, details: ["reason": "resend_not_confirmed"]))
        throw Refusal.resendNotConfirmed
    }
}
