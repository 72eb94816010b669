/// A job's lifecycle (SPEC §2). Terminal states never change; every other move
/// must be one of `allowedNext`.
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

    public var isTerminal: Bool { allowedNext.isEmpty }

    public var allowedNext: Set<JobStatus> {
        switch self {
        case .pendingApproval: return [.approved, .rejected, .expired, .cancelled]
        case .approved, .queued: return [.running]
        case .running: return [.succeeded, .failed]
        case .succeeded, .failed, .rejected, .expired, .cancelled: return []
        }
    }

    public func canMove(to next: JobStatus) -> Bool { allowedNext.contains(next) }
}
