import Actions
import Gate
import GateCore
import Synchronization
import Testing

/// A policy from a request body: its defaults, and every bad field reported at once.
@Suite struct ChangePolicyTests {
    final class Policies: PolicyStoring {
        let saved = Mutex<[Policy]>([])
        func put(workspaceID: String, policy: Policy, actor: AuditActor) async throws -> Policy {
            saved.withLock { $0.append(policy) }
            return policy
        }
    }

    let store = Policies()
    var change: ChangePolicy { ChangePolicy(store: store, defaultApprovalTimeoutSeconds: 900) }
    let actor = AuditActor(kind: .user, id: "ann")

    @Test func absentFieldsTakeTheirDefaults() async throws {
        let policy = try await change("task.create", to: [:], in: "acme", actor: actor)
        #expect(policy.enabled && policy.approval == .required && policy.approvalTimeoutSeconds == 900)
        #expect(policy.requiredApprovals == 1 && policy.constraints == [:])
        #expect(store.saved.withLock { $0 } == [policy])
    }

    @Test func everyBadFieldIsReportedAndNothingIsWritten() async throws {
        let body: [String: JSONValue] = [
            "enabled": "yes", "approval": "sometimes", "approval_timeout_seconds": 0, "required_approvals": 11, "colour": "red",
        ]
        await #expect(throws: ValidationFailure.self) { try await change("gmail.send", to: body, in: "acme", actor: actor) }
        guard case .failure(let failure) = change.policy("gmail.send", from: body) else { return }
        #expect(Set(failure.errors.map(\.field)) == ["enabled", "approval", "approval_timeout_seconds", "required_approvals", "colour"])
        #expect(store.saved.withLock { $0 }.isEmpty)
    }

    @Test func anUnknownActionIsNamed() {
        guard case .failure(let failure) = change.policy("sms.send", from: [:]) else {
            Issue.record("accepted")
            return
        }
        #expect(failure.errors.map(\.field) == ["action"])
    }
}
