import Actions
import Approvals
import Auth
import Foundation
import Gate
import Persistence

/// The reads the front doors make (a get, a page of a listing), each under the
/// request's dependency timeout, so no controller handles timeouts itself.

/// Jobs: a single job through the shared lookup batch (replays, GETs and long-polls
/// arriving together share a statement), listings from the store.
struct TimedJobReads: PostgresTimed {
    let lookups: JobLookupBatcher
    let jobs: JobStore
    let timeout: Duration

    func find(workspaceID: String, id: String) async throws -> JobRecord? {
        try await timed { try await lookups.find(workspaceID: workspaceID, id: id) }
    }

    func list(workspaceID: String, status: JobStatus?, action: String?, before: String?, limit: Int) async throws -> [JobRecord] {
        try await timed {
            try await jobs.list(workspaceID: workspaceID, status: status, action: action, before: before, limit: limit)
        }
    }
}

struct TimedApprovalReads: PostgresTimed, ApprovalWithJobLookup {
    let approvals: ApprovalStore
    let jobs: TimedJobReads
    let timeout: Duration

    func list(workspaceID: String, listing: ApprovalStore.Listing, action: String?, after cursor: String?, limit: Int) async throws
        -> [ApprovalRecord]
    {
        try await timed {
            try await approvals.list(workspaceID: workspaceID, listing: listing, action: action, after: cursor, limit: limit)
        }
    }

    /// A page of the console's queue, and the workspace's pending total.
    func queue(workspaceID: String, filter: QueueFilter, after cursor: String?, limit: Int) async throws -> (entries: [QueueEntry], total: Int) {
        try await timed {
            async let entries = approvals.queue(workspaceID: workspaceID, filter: filter, after: cursor, limit: limit)
            async let total = approvals.pendingCount(workspaceID: workspaceID)
            return (try await entries, try await total)
        }
    }

    /// The approval and the job it gates; nil when either is not in the workspace.
    func findWithJob(workspaceID: String, id: String) async throws -> (ApprovalRecord, JobRecord)? {
        let approval = try await timed { try await approvals.find(workspaceID: workspaceID, id: id) }
        guard let approval, let job = try await jobs.find(workspaceID: workspaceID, id: approval.jobID) else { return nil }
        return (approval, job)
    }
}

struct TimedKeyReads: PostgresTimed {
    let store: APIKeyStore
    let timeout: Duration

    func list(workspaceID: String, limit: Int, after cursor: String?) async throws -> [APIKeyRecord] {
        try await timed { try await store.list(workspaceID: workspaceID, limit: limit, after: cursor) }
    }
}

struct TimedPolicyReads: PostgresTimed {
    let store: PolicyStore
    let timeout: Duration

    func list(workspaceID: String) async throws -> [Policy] {
        try await timed { try await store.list(workspaceID: workspaceID) }
    }

    func find(workspaceID: String, action: String) async throws -> Policy? {
        try await timed { try await store.find(workspaceID: workspaceID, action: action) }
    }
}

struct TimedTaskReads: PostgresTimed {
    let store: TaskStore
    let timeout: Duration

    func list(workspaceID: String, assignee: String?, before: String?, limit: Int) async throws -> [TaskRecord] {
        try await timed {
            try await store.list(workspaceID: workspaceID, assignee: assignee, before: before, limit: limit)
        }
    }
}

struct TimedOutboxReads: PostgresTimed {
    let outbox: DevOutboxStore
    let timeout: Duration

    func list(workspaceID: String, limit: Int) async throws -> [OutboxMessage] {
        try await timed { try await outbox.list(workspaceID: workspaceID, limit: limit) }
    }

    func find(workspaceID: String, outboxID: String) async throws -> OutboxMessage? {
        try await timed { try await outbox.find(workspaceID: workspaceID, outboxID: outboxID) }
    }
}

/// Files of `gmail.send` jobs: up to 25 MB a read, so a longer limit than a row's.
struct TimedJobAttachments: PostgresTimed, JobAttachmentReading {
    let store: JobAttachmentStore
    let timeout: Duration

    func contents(workspaceID: String, jobID: String) async throws -> AttachmentContents {
        try await timed { try await store.contents(workspaceID: workspaceID, jobID: jobID) }
    }

    func content(workspaceID: String, jobID: String, sha256: String) async throws -> Data? {
        try await timed { try await store.content(workspaceID: workspaceID, jobID: jobID, sha256: sha256) }
    }
}

struct TimedNotificationReads: PostgresTimed {
    let store: NotificationStore
    let timeout: Duration

    func deliveries(workspaceID: String, approvalID: String) async throws -> [DeliveryRecord] {
        try await timed { try await store.deliveries(workspaceID: workspaceID, approvalID: approvalID) }
    }
}
