import Approvals
import Auth
import Foundation
import Gate
import Synchronization
import Testing

/// Who may cancel, and when a requeue is refused: the rules and their audit rows.
@Suite struct CancelAndRequeueTests {
    static func job(_ status: JobStatus, by submitter: String = "k1", code: String? = nil) -> JobRecord {
        let now = Date()
        return JobRecord(
            id: "job_1", workspaceID: "acme", action: "task.create", params: [:], payloadHash: "h", status: status,
            idempotencyKey: "k", submittedByType: "api_key", submittedBy: submitter, actsFor: nil, callbackURL: nil,
            requiredApprovals: 1, expiresAt: now, createdAt: now, updatedAt: now, statusReason: nil, statusCode: code, attempts: 3,
            nextAttemptAt: now, result: nil)
    }

    /// Cancels when allowed, as a store would.
    struct Cancellations: JobCancellationStore {
        let job: JobRecord
        func cancel(
            workspaceID: String, jobID: String, by canceller: String, actor: AuditActor,
            allowed: @escaping @Sendable (JobRecord) -> Bool
        ) async throws -> JobCancellation? {
            guard jobID == job.id else { return nil }
            guard allowed(job) else { return .notAllowed }
            guard job.status == .pendingApproval else { return .notCancellable(job) }
            var cancelled = job
            cancelled.status = .cancelled
            return .cancelled(cancelled)
        }
    }

    @Test func theSubmitterOrAnAdminCancelsAnyoneElseIsRefusedAndAudited() async throws {
        let cancel = CancelJob(store: Cancellations(job: Self.job(.pendingApproval)))
        let actor = AuditActor(kind: .apiKey, id: "x")
        let submitter = Principal(kind: .apiKey, id: "k1", workspaces: ["acme": [.jobsWrite]])
        let admin = Principal(kind: .user, id: "ann", workspaces: ["acme": [.policiesAdmin]])
        let other = Principal(kind: .apiKey, id: "k2", workspaces: ["acme": [.jobsWrite]])
        let adminElsewhere = Principal(kind: .user, id: "bob", workspaces: ["other": [.policiesAdmin], "acme": [.jobsWrite]])
        let audit = InMemoryAudit()
        #expect(try await cancel("job_1", in: "acme", by: submitter, actor: actor, audit: audit).status == .cancelled)
        #expect(try await cancel("job_1", in: "acme", by: admin, actor: actor, audit: audit).status == .cancelled)
        for principal in [other, adminElsewhere] {
            await #expect(throws: CancelJob.Refusal.notAllowed) {
                try await cancel("job_1", in: "acme", by: principal, actor: actor, audit: audit)
            }
        }
        #expect(audit.events.withLock { $0.map(\.action) } == ["job.cancel_refused", "job.cancel_refused"])
        await #expect(throws: CancelJob.Refusal.notFound) {
            try await cancel("job_2", in: "acme", by: admin, actor: actor, audit: audit)
        }
    }

    struct DeadLetters: DeadLetterStore {
        let job: JobRecord
        func requeue(workspaceID: String, jobID: String, confirmResend: Bool, actor: AuditActor) async throws -> JobRecord? {
            guard job.status == .dead, confirmResend || job.statusCode != RequeueDeadLetter.deliveryUnknownCode else { return nil }
            var requeued = job
            requeued.status = .approved
            return requeued
        }
        func find(workspaceID: String, id: String) async throws -> JobRecord? { id == job.id ? job : nil }
    }

    @Test func anUnknownDeliveryNeedsAConfirmedResend() async throws {
        let audit = InMemoryAudit()
        let actor = AuditActor(kind: .user, id: "ann")
        let unknown = RequeueDeadLetter(store: DeadLetters(job: Self.job(.dead, code: RequeueDeadLetter.deliveryUnknownCode)))
        await #expect(throws: RequeueDeadLetter.Refusal.resendNotConfirmed) {
            try await unknown("job_1", in: "acme", confirmResend: false, actor: actor, audit: audit)
        }
        #expect(audit.reasons == ["resend_not_confirmed"])
        #expect(try await unknown("job_1", in: "acme", confirmResend: true, actor: actor, audit: audit).status == .approved)
        let running = RequeueDeadLetter(store: DeadLetters(job: Self.job(.running)))
        await #expect(throws: RequeueDeadLetter.Refusal.notDead(.running)) {
            try await running("job_1", in: "acme", confirmResend: false, actor: actor, audit: audit)
        }
    }
}
