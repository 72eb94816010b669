import Foundation
import Gate
import GateCore
import Synchronization
import Testing

/// The audit log's readers chain what is committed before they answer, and an export
/// is recorded before anything is read.
@Suite struct ReadAuditLogTests {
    /// A chain whose seal steps answer what a test sets; it logs every call in order.
    final class Chain: AuditChainStore {
        let calls = Mutex<[String]>([])
        let steps: Mutex<[AuditSealStep]>
        init(steps: [AuditSealStep]) { self.steps = Mutex(steps) }

        func sealStep(workspaceID: String, lockWaitMilliseconds: Int) async throws -> AuditSealStep {
            calls.withLock { $0.append("step \(lockWaitMilliseconds)") }
            return steps.withLock { $0.isEmpty ? .caughtUp : $0.removeFirst() }
        }
        func sealCommitted(workspaceID: String) async throws { calls.withLock { $0.append("sealCommitted") } }
        func list(workspaceID: String, filter: AuditFilter, after position: Int64, limit: Int) async throws -> [Int] {
            calls.withLock { $0.append("list") }
            return [1, 2]
        }
        func export(workspaceID: String, filter: AuditFilter, _ sink: ([Int]) async throws -> Void) async throws -> Int64 {
            calls.withLock { $0.append("export") }
            try await sink([1, 2, 3])
            return 3
        }
        func verify(workspaceID: String) async throws -> AuditVerification {
            calls.withLock { $0.append("verify") }
            return AuditVerification(ok: true, eventsChecked: 3, unsealed: 0)
        }
    }

    /// Records the calls into the chain's log, so the order with the chain shows.
    final class Trail: AuditTrail {
        let chain: Chain
        let events = Mutex<[AuditEvent]>([])
        init(chain: Chain) { self.chain = chain }
        func record(_ event: AuditEvent) async throws {
            chain.calls.withLock { $0.append("record \(event.action)") }
            events.withLock { $0.append(event) }
        }
    }

    @Test(arguments: [
        ([AuditSealStep.caughtUp], ["step 1000", "verify"]),
        ([.moreWaiting], ["step 1000", "sealCommitted", "verify"]),
        ([.busy], ["step 1000", "sealCommitted", "verify"]),
    ])
    func verifyChainsAllThatIsCommittedFirst(steps: [AuditSealStep], expected: [String]) async throws {
        let chain = Chain(steps: steps)
        _ = try await ReadAuditLog(store: chain).verify(workspaceID: "acme")
        #expect(chain.calls.withLock { $0 } == expected)
    }

    @Test func aPageSealsOnlyWhatItCanWithoutWaitingLong() async throws {
        let chain = Chain(steps: [.busy])
        #expect(try await ReadAuditLog(store: chain).page(workspaceID: "acme", filter: AuditFilter(), after: 0, limit: 2) == [1, 2])
        #expect(chain.calls.withLock { $0 } == ["step 500", "list"])
    }

    @Test func anExportIsRecordedBeforeTheLogIsSealedOrRead() async throws {
        let chain = Chain(steps: [.moreWaiting])
        let trail = Trail(chain: chain)
        let export = try await ReadAuditLog(store: chain).beginExport(
            workspaceID: "acme", format: "csv", filter: AuditFilter(from: "2026-01-01T00:00:00Z"),
            actor: AuditActor(kind: .cli, id: "root"), trail: trail)
        var seen: [Int] = []
        #expect(try await export.stream { seen += $0 } == 3)
        #expect(seen == [1, 2, 3])
        #expect(chain.calls.withLock { $0 } == ["record audit.exported", "step 1000", "sealCommitted", "export"])
        let event = try #require(trail.events.withLock { $0.first })
        #expect(event.workspaceID == "acme" && event.targetType == "audit_log" && event.actor.kind == .cli)
        #expect(event.details == ["format": "csv", "from": "2026-01-01T00:00:00Z", "to": .null])
    }

    @Test func aRefusedRecordMeansNoExport() async throws {
        struct Refusing: AuditTrail {
            func record(_ event: AuditEvent) async throws { throw CancellationError() }
        }
        let chain = Chain(steps: [])
        await #expect(throws: CancellationError.self) {
            _ = try await ReadAuditLog(store: chain).beginExport(
                workspaceID: "acme", format: "jsonl", filter: AuditFilter(), actor: AuditActor(kind: .cli, id: "root"), trail: Refusing())
        }
        #expect(chain.calls.withLock { $0.isEmpty })
    }
}
