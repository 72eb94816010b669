/// A job's lifecycle (SPEC §2). Terminal states never change; every other move must be
/// one of `allowedNext`, which the database enforces on every status change (migration
/// 0018; `SchemaRulesTests` checks that both say the same). A failed attempt that will
/// be retried returns a running job to where it was runnable from (`approved` or
/// `queued`); one that has used up its attempts is `dead` (a dead letter) until an admin
/// requeues it.
public enum JobStatus: String, Sendable, CaseIterable, Codable {
    case pendingApproval = "pending_approval"
    case queued
    case approved
    case running
    case succeeded
    case failed
    case rejected
    case expired
    case cancelled
    case dead

    public var isTerminal: Bool { allowedNext.isEmpty }

    public var allowedNext: Set<JobStatus> {
        switch self {
        case .pendingApproval: return [.approved, .rejected, .expired, .cancelled]
        case .approved, .queued: return [.running]
        case .running: return [.succeeded, .failed, .dead, .approved, .queued]
        case .dead: return [.approved, .queued]
        case .succeeded, .failed, .rejected, .expired, .cancelled: return []
        }
    }

    public func canMove(to next: JobStatus) -> Bool { allowedNext.contains(next) }
}
