import Auth

/// Where a pending job is cancelled: the job and its approval in one transaction, the
/// approval locked first (the lock order every writer of both keeps).
public protocol JobCancellationStore: Sendable {
    /// Locks the job (and its pending approval), asks `allowed` whether the caller may
    /// cancel it, and if so cancels both with a `job.cancelled` row. nil if the
    /// workspace has no such job.
    func cancel(
        workspaceID: String, jobID: String, by canceller: String, actor: AuditActor,
        allowed: @escaping @Sendable (JobRecord) -> Bool
    ) async throws -> JobCancellation?
}

public enum JobCancellation: Sendable, Equatable {
    case cancelled(JobRecord)
    case alreadyCancelled(JobRecord)
    case notCancellable(JobRecord)
    case notAllowed
}

/// Cancelling a job that waits for approval (SPEC §4): its submitter, or a workspace admin
/// (`policies:admin`), may; anyone else is refused and audited (`job.cancel_refused`).
/// Cancelling a cancelled job answers it again.
public struct CancelJob: Sendable {
    public enum Refusal: Error, Sendable, Equatable {
        case notFound
        /// Past pending: only a job waiting for approval can be cancelled.
        case notCancellable(JobRecord)
        /// Neither its submitter nor an admin.
        case notAllowed
    }

    let store: any JobCancellationStore

    public init(store: any JobCancellationStore) {
        self.store = store
    }

    /// Whether `principal` may cancel `job` in `workspace`.
    public static func mayCancel(_ job: JobRecord, principal: Principal, workspace: String) -> Bool {
        principal.has(.policiesAdmin, in: workspace) || "\(job.submittedByType):\(job.submittedBy)" == principal.qualifiedID
    }

    public func callAsFunction(
        _ jobID: String, in workspace: String, by principal: Principal, actor: AuditActor, audit: any AuditTrail
    ) async throws -> JobRecord {
        let outcome = try await store.cancel(workspaceID: workspace, jobID: jobID, by: principal.qualifiedID, actor: actor) { job in
            Self.mayCancel(job, principal: principal, workspace: workspace)
        }
        switch outcome {
        case nil: throw Refusal.notFound
        case .cancelled(let job)?, .alreadyCancelled(let job)?: return job
        case .notCancellable(let job)?: throw Refusal.notCancellable(job)
        case .notAllowed?:
            try await audit.record(
                AuditEvent(
                    workspaceID: workspace, actor: actor, action: "job.cancel_refused", targetType: "job", targetID: jobID,
                    outcome: .denied, details: ["reason": "not_submitter"]))
            throw Refusal.notAllowed
        }
    }
}
