import Actions
import Approvals
import Foundation
import GateCore

/// A job as stored (SPEC §2 Job).
public struct JobRecord: Sendable, Equatable {
    public var id: String
    public var workspaceID: String
    public var action: String
    public var params: JSONValue
    public var payloadHash: String
    public var status: JobStatus
    public var idempotencyKey: String
    public var submittedByType: String
    public var submittedBy: String
    public var actsFor: String?
    public var callbackURL: String?
    public var requiredApprovals: Int
    public var expiresAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// Why the job is in its status (a rejection reason, "approval expired", …).
    public var statusReason: String?
    public var statusCode: String?
    /// Execution attempts so far, when the next may start, and the provider's answer.
    public var attempts: Int
    public var nextAttemptAt: Date
    public var result: JSONValue?

    public init(
        id: String, workspaceID: String, action: String, params: JSONValue, payloadHash: String, status: JobStatus,
        idempotencyKey: String, submittedByType: String, submittedBy: String, actsFor: String?, callbackURL: String?,
        requiredApprovals: Int, expiresAt: Date?, createdAt: Date, updatedAt: Date, statusReason: String?,
        statusCode: String?, attempts: Int, nextAttemptAt: Date, result: JSONValue?
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.action = action
        self.params = params
        self.payloadHash = payloadHash
        self.status = status
        self.idempotencyKey = idempotencyKey
        self.submittedByType = submittedByType
        self.submittedBy = submittedBy
        self.actsFor = actsFor
        self.callbackURL = callbackURL
        self.requiredApprovals = requiredApprovals
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.statusReason = statusReason
        self.statusCode = statusCode
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.result = result
    }
}

/// What a submission asks to store.
public struct NewJob: Sendable {
    public var workspaceID: String
    public var action: String
    public var params: JSONValue
    public var payloadHash: String
    public var status: JobStatus
    public var idempotencyKey: String
    public var submittedByType: String
    public var submittedBy: String
    public var actsFor: String?
    public var callbackURL: String?
    public var requiredApprovals: Int
    /// For gated jobs: seconds until the approval expires.
    public var approvalTimeoutSeconds: Int?
    /// For gated jobs: who must approve, by group (the policy's `approvers`).
    public var approverRules: [ApproverRule]

    public init(
        workspaceID: String, action: String, params: JSONValue, payloadHash: String, status: JobStatus,
        idempotencyKey: String, submittedByType: String, submittedBy: String, actsFor: String?, callbackURL: String?,
        requiredApprovals: Int, approvalTimeoutSeconds: Int?, approverRules: [ApproverRule] = []
    ) {
        self.approverRules = approverRules
        self.workspaceID = workspaceID
        self.action = action
        self.params = params
        self.payloadHash = payloadHash
        self.status = status
        self.idempotencyKey = idempotencyKey
        self.submittedByType = submittedByType
        self.submittedBy = submittedBy
        self.actsFor = actsFor
        self.callbackURL = callbackURL
        self.requiredApprovals = requiredApprovals
        self.approvalTimeoutSeconds = approvalTimeoutSeconds
    }
}

/// A job's address: ids are unique, but a job is only ever looked up in its workspace.
public struct JobKey: Sendable, Hashable {
    public var workspaceID: String
    public var id: String

    public init(workspaceID: String, id: String) {
        self.workspaceID = workspaceID
        self.id = id
    }
}

/// One submission to store: the job, the ids it will have, who asked (its audit rows'
/// actor), and the bytes of the files its params describe (stored with it, atomically).
public struct JobInsert: Sendable {
    public var job: NewJob
    public var id: String
    public var approvalID: String
    public var actor: AuditActor
    public var files: AttachmentContents

    public init(
        _ job: NewJob, id: String = SortableID.make(prefix: "job"),
        approvalID: String = SortableID.make(prefix: "apr"), actor: AuditActor, files: AttachmentContents = AttachmentContents()
    ) {
        self.job = job
        self.id = id
        self.approvalID = approvalID
        self.actor = actor
        self.files = files
    }
}

/// What storing a submission did.
public enum JobInsertOutcome: Sendable, Equatable {
    /// Inserted now, with its audit row.
    case created(JobRecord)
    /// The workspace already has a job with this idempotency key (the durable backstop).
    case existing(JobRecord)
    /// The key's job was purged from history while the key is still within
    /// IDEMPOTENCY_TTL_SECONDS (migration 0014): no job was created.
    case purged(IdempotencyRecord)
}
