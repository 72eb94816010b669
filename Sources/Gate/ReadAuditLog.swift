import Foundation
import GateCore

/// Reading a workspace's audit log: the query, the export and the chain check, for
/// the REST routes and `gate-api audit`. Answers never depend on how far the
/// background sealer got: what is committed is chained first.
public struct ReadAuditLog<Store: AuditChainStore>: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// A page of sealed events. Sealing first is best effort (`lockWaitMilliseconds`):
    /// if another replica is sealing right now, its events show on the next call.
    public func page(workspaceID: String, filter: AuditFilter, after position: Int64, limit: Int) async throws -> [Store.Record] {
        _ = try await store.sealStep(workspaceID: workspaceID, lockWaitMilliseconds: 500)
        return try await store.list(workspaceID: workspaceID, filter: filter, after: position, limit: limit)
    }

    /// The chain check, after chaining everything committed.
    public func verify(workspaceID: String) async throws -> AuditVerification {
        try await sealCommitted(workspaceID: workspaceID)
        return try await store.verify(workspaceID: workspaceID)
    }

    /// Records the export (`audit.exported` on `trail`: no record, no export), chains
    /// what is committed, and returns the export to stream. `format` is the file
    /// format's name, recorded with the time range.
    public func beginExport(
        workspaceID: String, format: String, filter: AuditFilter, actor: AuditActor, trail: any AuditTrail
    ) async throws -> AuditExport<Store> {
        try await trail.record(
            AuditEvent(
                workspaceID: workspaceID, actor: actor, action: "audit.exported", targetType: "audit_log", targetID: workspaceID,
                details: [
                    "format": .string(format), "from": filter.from.map { .string($0) } ?? .null,
                    "to": filter.to.map { .string($0) } ?? .null,
                ]))
        try await sealCommitted(workspaceID: workspaceID)
        return AuditExport(store: store, workspaceID: workspaceID, filter: filter)
    }

    /// One step first (quick, so an outage is a quick answer), then the rest only
    /// when there is a backlog or another sealer holds the lock.
    func sealCommitted(workspaceID: String) async throws {
        if try await store.sealStep(workspaceID: workspaceID, lockWaitMilliseconds: 1000) != .caughtUp {
            try await store.sealCommitted(workspaceID: workspaceID)
        }
    }
}

/// An export that is recorded and sealed, ready to stream.
public struct AuditExport<Store: AuditChainStore>: Sendable {
    let store: Store
    public let workspaceID: String
    public let filter: AuditFilter

    /// Hands the events to `sink` in batches; returns how many.
    public func stream(_ sink: ([Store.Record]) async throws -> Void) async throws -> Int64 {
        try await store.export(workspaceID: workspaceID, filter: filter, sink)
    }
}
