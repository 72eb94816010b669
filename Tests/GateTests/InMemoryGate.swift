import Foundation
import Gate
import GateCore
import Synchronization

/// In-memory stand-ins for the stores `SubmitJob` needs: what each was asked, and
/// answers a test can set. They model the stores' contracts, not Postgres or Redis.
final class InMemoryJobs: JobSubmissionStore {
    struct State {
        var jobs: [String: JobRecord] = [:]
        var records: [String: IdempotencyRecord] = [:]
        var inserts: [JobInsert] = []
        var failInserts: (any Error)?
    }
    let state = Mutex(State())

    func insert(_ insert: JobInsert) async throws -> JobInsertOutcome {
        try state.withLock { state in
            state.inserts.append(insert)
            if let error = state.failInserts { throw error }
            let job = insert.job
            if let record = state.records[job.idempotencyKey] { return .purged(record) }
            if let existing = state.jobs.values.first(where: {
                $0.workspaceID == job.workspaceID && $0.idempotencyKey == job.idempotencyKey
            }) {
                return .existing(existing)
            }
            let now = Date()
            let record = JobRecord(
                id: insert.id, workspaceID: job.workspaceID, action: job.action, params: job.params, payloadHash: job.payloadHash,
                status: job.status, idempotencyKey: job.idempotencyKey, submittedByType: job.submittedByType,
                submittedBy: job.submittedBy, actsFor: job.actsFor, callbackURL: job.callbackURL,
                requiredApprovals: job.requiredApprovals,
                expiresAt: job.approvalTimeoutSeconds.map { now.addingTimeInterval(Double($0)) }, createdAt: now, updatedAt: now,
                statusReason: nil, statusCode: nil, attempts: 0, nextAttemptAt: now, result: nil)
            state.jobs[record.id] = record
            return .created(record)
        }
    }

    func find(workspaceID: String, id: String) async throws -> JobRecord? {
        state.withLock { $0.jobs[id].flatMap { $0.workspaceID == workspaceID ? $0 : nil } }
    }

    func idempotencyRecord(workspaceID: String, idempotencyKey: String) async throws -> IdempotencyRecord? {
        state.withLock { $0.records[idempotencyKey] }
    }
}

final class InMemoryPolicies: PolicyLookup {
    let policies: Mutex<[String: Policy]>
    init(_ policies: [Policy]) { self.policies = Mutex(Dictionary(uniqueKeysWithValues: policies.map { ($0.action, $0) })) }
    func find(workspaceID: String, action: String) async throws -> Policy? { policies.withLock { $0[action] } }
}

/// Claims as Redis holds them, by key: what `claim` answers next can be set.
final class InMemoryClaims: IdempotencyClaims {
    struct State {
        var next: IdempotencyClaim?
        var completed: [(key: String, jobID: String)] = []
        var released: [String] = []
    }
    let state = Mutex(State())

    func claim(workspace: String, key: String, payloadHash: String, jobID: String) async throws -> IdempotencyClaim {
        state.withLock { $0.next ?? .claimed(token: "token-\(jobID)") }
    }
    func complete(workspace: String, key: String, payloadHash: String, jobID: String) async {
        state.withLock { $0.completed.append((key, jobID)) }
    }
    func release(workspace: String, key: String, token: String) async {
        state.withLock { $0.released.append(token) }
    }
}

final class InMemoryAudit: AuditTrail {
    let events = Mutex<[AuditEvent]>([])
    func record(_ event: AuditEvent) async throws { events.withLock { $0.append(event) } }
    var reasons: [String] {
        events.withLock { $0.compactMap { if case .string(let reason)? = $0.details["reason"] { reason } else { nil } } }
    }
}

final class RunnableJobs: RunnableJobSignal {
    let ids = Mutex<[String]>([])
    func jobBecameRunnable(_ job: JobRecord) { ids.withLock { $0.append(job.id) } }
}

import Actions

/// The payload hash the gate computes for a submission's body.
enum ActionRegistryHash {
    static func of(_ body: JSONValue) -> String {
        guard case .object(let members) = body, case .string(let action)? = members["action"],
            case .success(let validated) = ActionRegistry.validate(action: action, params: members["params"] ?? .null, form: .submitted)
        else { return "" }
        return validated.payloadHash
    }
}
