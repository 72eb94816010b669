import Actions
import Approvals
import Foundation
import Gate
import Synchronization
import Testing

/// The vote use case alone: its re-read loop, its validation and its decision hook.
@Suite struct VoteOnApprovalTests {
    /// An approval needing `required` approvals; `record` fails (someone else's vote
    /// landed) as many times as `lost` says.
    final class Ballots: ApprovalVotingStore {
        struct State {
            var approval: ApprovalRecord
            var version = 0
            var lostWrites: Int
            var reads = 0
            var refusals: [VoteRefusal] = []
        }
        let state: Mutex<State>

        init(required: Int, lostWrites: Int = 0) {
            let now = Date()
            state = Mutex(State(
                approval: ApprovalRecord(
                    id: "apr_1", workspaceID: "acme", jobID: "job_1", action: "task.create", status: .pending, payloadHash: "h",
                    requiredApprovals: required, expiresAt: now.addingTimeInterval(60), createdAt: now, decidedAt: nil, reason: nil,
                    reasonCode: nil, votes: []),
                lostWrites: lostWrites))
        }

        func ballot(workspaceID: String, id: String) async throws -> ApprovalBallot? {
            state.withLock { state in
                state.reads += 1
                guard workspaceID == state.approval.workspaceID, id == state.approval.id else { return nil }
                return ApprovalBallot(
                    approval: state.approval, submitter: "api_key:k1", submitterPerson: "sam", now: Date(), version: state.version)
            }
        }

        func record(_ vote: VoteWrite) async throws -> (votedAt: Date, decidedAt: Date?)? {
            state.withLock { state in
                guard state.lostWrites == 0 else {
                    state.lostWrites -= 1
                    return nil
                }
                state.version += 1
                return (Date(), vote.newStatus == .pending ? nil : Date())
            }
        }

        func refuse(_ refusal: VoteRefusal, decision: VoteDecision, approval: ApprovalRecord, actor: AuditActor) async throws
            -> ApprovalRecord
        {
            state.withLock { $0.refusals.append(refusal) }
            return approval
        }
    }

    let bob = Reviewer(principal: "user:bob", person: "bob")
    let actor = AuditActor(kind: .user, id: "bob")

    @Test func aVoteThatLostItsWriteReadsAgainAndLands() async throws {
        let store = Ballots(required: 1, lostWrites: 2)
        let decided = Mutex<[String]>([])
        let vote = VoteOnApproval(store: store) { approval in decided.withLock { $0.append(approval.status.rawValue) } }
        let outcome = try await vote(.init(decision: .approve, comment: "ok"), on: "apr_1", in: "acme", by: bob, actor: actor)
        guard case .changed(let approval)? = outcome else {
            Issue.record("\(String(describing: outcome))")
            return
        }
        #expect(approval.status == .approved && approval.decidedAt != nil && approval.votes.map(\.reviewer) == ["user:bob"])
        #expect(store.state.withLock { $0.reads } == 3)
        #expect(decided.withLock { $0 } == ["approved"])
    }

    @Test func aVoteBelowQuorumIsNotADecision() async throws {
        let decided = Mutex(0)
        let vote = VoteOnApproval(store: Ballots(required: 2)) { _ in decided.withLock { $0 += 1 } }
        let outcome = try await vote(.init(decision: .approve, comment: nil), on: "apr_1", in: "acme", by: bob, actor: actor)
        guard case .changed(let approval)? = outcome else { return }
        #expect(approval.status == .pending && approval.decidedAt == nil)
        #expect(decided.withLock { $0 } == 0)
    }

    @Test func aVoteThatNeverLandsIsContended() async throws {
        let vote = VoteOnApproval(store: Ballots(required: 1, lostWrites: .max))
        await #expect(throws: VoteOnApproval.Contended.self) {
            try await vote(.init(decision: .approve, comment: nil), on: "apr_1", in: "acme", by: bob, actor: actor)
        }
    }

    @Test func refusalsGoToTheStore() async throws {
        let store = Ballots(required: 1)
        let sam = Reviewer(principal: "user:sam", person: "sam")
        let outcome = try await VoteOnApproval(store: store)(
            .init(decision: .approve, comment: nil), on: "apr_1", in: "acme", by: sam, actor: actor)
        #expect(outcome == .refused(.ownJob, store.state.withLock { $0.approval }))
        #expect(store.state.withLock { $0.refusals } == [.ownJob])
    }

    @Test func anUnknownApprovalIsNil() async throws {
        #expect(try await VoteOnApproval(store: Ballots(required: 1))(
            .init(decision: .approve, comment: nil), on: "apr_2", in: "acme", by: bob, actor: actor) == nil)
    }

    @Test(arguments: [
        (VoteOnApproval.Ballot(decision: .reject, comment: "   "), "reason"),
        (VoteOnApproval.Ballot(decision: .reject, comment: nil), "reason"),
        (VoteOnApproval.Ballot(decision: .approve, comment: String(repeating: "x", count: 2001)), "comment"),
        (VoteOnApproval.Ballot(decision: .reject, comment: "no", reasonCode: "bad\ncode"), "code"),
    ])
    func invalidBallotsWriteNothing(ballot: VoteOnApproval.Ballot, field: String) async throws {
        let store = Ballots(required: 1)
        do {
            _ = try await VoteOnApproval(store: store)(ballot, on: "apr_1", in: "acme", by: bob, actor: actor)
            Issue.record("accepted")
        } catch let failure as ValidationFailure {
            #expect(failure.errors.map(\.field) == [field])
        }
        #expect(store.state.withLock { $0.reads } == 0)
    }
}
