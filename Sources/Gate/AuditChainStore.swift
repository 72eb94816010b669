import Foundation

/// Which events a query or an export wants. Every value is already validated; the
/// times are RFC 3339 text that Postgres parses (`from` inclusive, `to` exclusive).
public struct AuditFilter: Sendable, Equatable {
    public var from: String?
    public var to: String?
    public var action: String?
    public var actorID: String?
    public var targetID: String?
    public var outcome: String?

    public init(
        from: String? = nil, to: String? = nil, action: String? = nil, actorID: String? = nil, targetID: String? = nil,
        outcome: String? = nil
    ) {
        self.from = from
        self.to = to
        self.action = action
        self.actorID = actorID
        self.targetID = targetID
        self.outcome = outcome
    }
}

/// What a chain check found (docs/audit.md). `ok` is false at the first problem, with
/// the event's seq and chain position and a `reason`.
public struct AuditVerification: Sendable, Equatable {
    public var ok: Bool
    /// Chain entries examined: all of them, or up to and including the first bad one.
    public var eventsChecked: Int64
    public var firstBadSequence: Int64?
    public var firstBadPosition: Int64?
    /// position_gap, event_missing, event_moved, broken_link, hash_mismatch, event_not_chained.
    public var reason: String?
    /// The newest chain entry: record it elsewhere to detect a rewrite of the whole chain later.
    public var headPosition: Int64?
    public var headHash: String?
    /// Committed events still waiting in the queue (committed after the seal that preceded the check).
    public var unsealed: Int64

    public init(ok: Bool, eventsChecked: Int64, unsealed: Int64) {
        (self.ok, self.eventsChecked, self.unsealed) = (ok, eventsChecked, unsealed)
    }
}

/// What one sealing step did.
public enum AuditSealStep: Sendable, Equatable {
    /// Everything committed is chained.
    case caughtUp
    /// A full batch was chained; more may be waiting.
    case moreWaiting
    /// Another session is sealing the workspace and did not let go in time.
    case busy
}

public enum AuditStoreError: Error, Equatable {
    /// Another session kept the workspace's seal lock for longer than we would wait.
    case sealerBusy
}

/// The hash-chained audit log as the use cases read it. Events are written by the
/// stores whose changes they record (in the same transaction); this chains them
/// ("seals") and reads them back. `Record` is the store's own form of a sealed event
/// (the export writes its bytes out as they came).
public protocol AuditChainStore: Sendable {
    associatedtype Record: Sendable

    /// Chains one batch of committed events, waiting for another sealer at most
    /// `lockWaitMilliseconds`.
    func sealStep(workspaceID: String, lockWaitMilliseconds: Int) async throws -> AuditSealStep
    /// Chains everything committed so far; throws `AuditStoreError.sealerBusy`.
    func sealCommitted(workspaceID: String) async throws
    /// Sealed events matching `filter` in chain order after `position`, at most `limit`.
    func list(workspaceID: String, filter: AuditFilter, after position: Int64, limit: Int) async throws -> [Record]
    /// Every sealed event matching `filter` up to the chain's head when it starts, in
    /// batches; returns how many.
    func export(workspaceID: String, filter: AuditFilter, _ sink: ([Record]) async throws -> Void) async throws -> Int64
    /// Recomputes the chain from the stored events.
    func verify(workspaceID: String) async throws -> AuditVerification
}
