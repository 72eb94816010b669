import Actions
import Approvals
import Foundation
import Gate
import Synchronization
import Testing

/// Bulk decisions: each approval gets the single vote's rules; the answer sorts them.
@Suite struct DecideInBulkTests {
    /// Approvals `apr_0`… submitted by `sam`'s key; some already decided, expired, or bob's own.
    final class Approvals: ApprovalVotingStore {
        struct Entry {
            var approval: ApprovalRecord
            var submitterPerson: String
        }
        let entries: Mutex<[String: Entry]>
        let writes = Mutex(0)

        static func id(_ index: Int) -> String { "apr_" + String(repeating: "0", count: 23) + String(format: "%03d", index) }

        init(count: Int, decided: Set<Int> = [], expired: Set<Int> = [], bobs: Set<Int> = []) {
            let now = Date()
            var entries: [String: Entry] = [:]
            for index in 0..<count {
                let id = Self.id(index)
                entries[id] = Entry(
                    approval: ApprovalRecord(
                        id: id, workspaceID: "acme", jobID: "job_\(index)", action: "task.create",
                        status: decided.contains(index) ? .rejected : .pending, payloadHash: "h\(index)", requiredApprovals: 1,
                        expiresAt: now.addingTimeInterval(expired.contains(index) ? -1 : 600), createdAt: now, decidedAt: nil,
                        reason: nil, reasonCode: nil, votes: []),
                    submitterPerson: bobs.contains(index) ? "bob" : "sam")
            }
            self.entries = Mutex(entries)
        }

        func ballot(workspaceID: String, id: String) async throws -> ApprovalBallot? {
            entries.withLock { entries in
                guard workspaceID == "acme", let entry = entries[id] else { return nil }
                return ApprovalBallot(
                    approval: entry.approval, submitter: "api_key:k1", submitterPerson: entry.submitterPerson, now: Date(), version: 0)
            }
        }

        func record(_ vote: VoteWrite) async throws -> (votedAt: Date, decidedAt: Date?)? {
            writes.withLock { $0 += 1 }
            entries.withLock { entries in
                guard let entry = entries[vote.approval.id] else { return }
                let old = entry.approval
                entries[vote.approval.id]?.approval = ApprovalRecord(
                    id: old.id, workspaceID: old.workspaceID, jobID: old.jobID, action: old.action, status: vote.newStatus,
                    payloadHash: old.payloadHash, requiredApprovals: old.requiredApprovals, expiresAt: old.expiresAt,
                    createdAt: old.createdAt, decidedAt: Date(), reason: vote.reason, reasonCode: vote.reasonCode, votes: old.votes)
            }
            return (Date(), Date())
        }

        func refuse(_ refusal: VoteRefusal, decision: VoteDecision, approval: ApprovalRecord, actor: AuditActor) async throws
            -> ApprovalRecord
        { approval }
    }

    let bob = Reviewer(principal: "user:bob", person: "bob")
    let actor = AuditActor(kind: .user, id: "bob")

    @Test func fiftyApprovalsWithThreeSkippedForTheirReasons() async throws {
        let store = Approvals(count: 50, decided: [3], expired: [7], bobs: [11])
        let bulk = DecideInBulk(vote: VoteOnApproval(store: store))
        let items = (0..<50).map { DecideInBulk.Item(approvalID: Approvals.id($0), payloadHashSeen: "h\($0)") }
        let outcome = try await bulk(.init(decision: .approve, comment: "batch"), on: items, in: "acme", by: bob, actor: actor)
        #expect(outcome.decided.count == 47 && outcome.decided.allSatisfy { $0.status == .approved })
        #expect(outcome.decided.map(\.id) == items.map(\.approvalID).filter { ![3, 7, 11].map(Approvals.id).contains($0) })
        #expect(outcome.skipped.map(\.approvalID) == [3, 7, 11].map(Approvals.id))
        #expect(outcome.skipped.map(\.reason) == [.alreadyDecided, .expired, .ownJob])
        #expect(store.writes.withLock { $0 } == 47)
    }

    @Test func eachApprovalIsBoundToTheHashTheReviewerSaw() async throws {
        let store = Approvals(count: 3)
        let items = [
            DecideInBulk.Item(approvalID: Approvals.id(0), payloadHashSeen: "h0"), .init(approvalID: Approvals.id(1), payloadHashSeen: "h0"),
            .init(approvalID: Approvals.id(9), payloadHashSeen: nil), .init(approvalID: "apr_\u{0}", payloadHashSeen: nil),
        ]
        let outcome = try await DecideInBulk(vote: VoteOnApproval(store: store))(
            .init(decision: .reject, comment: "not now", reasonCode: "not_needed"), on: items, in: "acme", by: bob, actor: actor)
        #expect(outcome.decided.map(\.id) == [Approvals.id(0)] && outcome.decided.first?.status == .rejected)
        #expect(outcome.skipped.map(\.reason) == [.payloadHashMismatch, .notFound, .notFound])
    }

    @Test func aBadRequestWritesNothing() async throws {
        let store = Approvals(count: 201)
        let bulk = DecideInBulk(vote: VoteOnApproval(store: store))
        let all = (0..<201).map { DecideInBulk.Item(approvalID: Approvals.id($0), payloadHashSeen: nil) }
        await #expect(throws: DecideInBulk.Refusal.tooMany(201)) {
            try await bulk(.init(decision: .approve, comment: nil), on: all, in: "acme", by: bob, actor: actor)
        }
        await #expect(throws: DecideInBulk.Refusal.empty) {
            try await bulk(.init(decision: .approve, comment: nil), on: [], in: "acme", by: bob, actor: actor)
        }
        await #expect(throws: DecideInBulk.Refusal.repeated(Approvals.id(1))) {
            try await bulk(.init(decision: .approve, comment: nil), on: [all[1], all[2], all[1]], in: "acme", by: bob, actor: actor)
        }
        await #expect(throws: ValidationFailure.self) {
            try await bulk(.init(decision: .reject, comment: " "), on: [all[1]], in: "acme", by: bob, actor: actor)
        }
        #expect(store.writes.withLock { $0 } == 0)
    }
}
