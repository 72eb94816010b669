import Foundation

/// What is left of a job the history purge deleted while its Idempotency-Key was still
/// within IDEMPOTENCY_TTL_SECONDS (migration 0014): enough for a retry to be answered
/// without a second job being created.
public struct IdempotencyRecord: Sendable, Equatable {
    public var workspaceID: String
    public var idempotencyKey: String
    public var payloadHash: String
    public var jobID: String
    /// How the job ended (a terminal status: only those are purged).
    public var jobStatus: String
    /// Until when the key stays taken.
    public var expiresAt: Date

    public init(workspaceID: String, idempotencyKey: String, payloadHash: String, jobID: String, jobStatus: String, expiresAt: Date) {
        self.workspaceID = workspaceID
        self.idempotencyKey = idempotencyKey
        self.payloadHash = payloadHash
        self.jobID = jobID
        self.jobStatus = jobStatus
        self.expiresAt = expiresAt
    }
}
