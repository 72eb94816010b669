import Actions
import Foundation
/// Where submissions are stored and found again (Persistence implements it; the server
/// wraps it in its dependency timeout). Each call is one atomic step.
public protocol JobSubmissionStore: Sendable {
    /// Stores the job with its audit rows (and its approval, if gated) unless its
    /// workspace already holds the key — as a job, or as the record of a purged one.
    func insert(_ insert: JobInsert) async throws -> JobInsertOutcome
    /// The job `id` of `workspaceID`, if it exists there.
    func find(workspaceID: String, id: String) async throws -> JobRecord?
    /// The live record the history purge left of the key's job, if any.
    func idempotencyRecord(workspaceID: String, idempotencyKey: String) async throws -> IdempotencyRecord?
}

/// A workspace's policy for an action, as the gate reads it (cached by the server).
public protocol PolicyLookup: Sendable {
    func find(workspaceID: String, action: String) async throws -> Policy?
}

/// Told of every job that can run now, so executors start without waiting for a poll,
/// and of every job that now waits for a person (the console's live queue).
public protocol RunnableJobSignal: Sendable {
    func jobBecameRunnable(_ job: JobRecord)
    func jobAwaitsApproval(_ job: JobRecord)
}

extension RunnableJobSignal {
    public func jobAwaitsApproval(_ job: JobRecord) {}
}

/// Where a request's audit rows go when nothing else is written with them (refusals).
/// Bound to the request: it takes the request's deferred rate-limit charge before the
/// first row, and makes client-sent text storable.
public protocol AuditTrail: Sendable {
    func record(_ event: AuditEvent) async throws
}

/// The bytes of a job's files (`gmail.send` attachments and inline images), which its
/// params describe by SHA-256 and which were stored with it.
public protocol JobAttachmentReading: Sendable {
    /// Every file of job `jobID` in `workspaceID` (empty when it has none or is unknown there).
    func contents(workspaceID: String, jobID: String) async throws -> AttachmentContents
    /// One file's bytes, or nil.
    func content(workspaceID: String, jobID: String, sha256: String) async throws -> Data?
}
