import Approvals
import Foundation
import Testing

/// The gate's rules alone (SPEC §4): quorum of distinct people, refusals.
@Suite struct ApprovalRulesTests {
    let base = ApprovalSnapshot(
        status: .pending, requiredApprovals: 2, expiresAt: Date().addingTimeInterval(60), payloadHash: "h",
        submitter: "api_key:k1", submitterPerson: "sam", votes: [:])

    @Test func quorumCountsDistinctPeople() {
        var snapshot = base
        snapshot.votes = ["user:ann": CastVote(decision: .approve, person: "ann")]
        #expect(ApprovalRules.vote(.approve, by: Reviewer(principal: "user:bob", person: "bob"), payloadHashSeen: "h", on: snapshot, now: Date())
            == .success(.recorded(status: .approved, approvals: 2)))
        // A key's approval recorded before keys lost the vote counts for nobody.
        snapshot.votes["api_key:k9"] = CastVote(decision: .approve, person: "zed")
        #expect(ApprovalRules.approvers(snapshot.votes) == ["ann"])
    }

    @Test func refusals() {
        let now = Date()
        #expect(ApprovalRules.vote(.approve, by: Reviewer(principal: "api_key:k9", person: "ann"), payloadHashSeen: nil, on: base, now: now) == .failure(.notAPerson))
        #expect(ApprovalRules.vote(.approve, by: Reviewer(principal: "user:sam", person: "sam"), payloadHashSeen: nil, on: base, now: now) == .failure(.ownJob))
        var chained = base
        chained.submitterCreators = ["api_key:k0", "user:rob"]
        #expect(ApprovalRules.vote(.approve, by: Reviewer(principal: "user:rob", person: "rob"), payloadHashSeen: nil, on: chained, now: now) == .failure(.ownJob))
        #expect(ApprovalRules.vote(.approve, by: Reviewer(principal: "user:x", person: "x"), payloadHashSeen: "other", on: base, now: now) == .failure(.payloadMismatch))
        #expect(ApprovalRules.vote(.approve, by: Reviewer(principal: "user:x", person: "x"), payloadHashSeen: nil, on: base, now: now.addingTimeInterval(61)) == .failure(.expired))
        var voted = base
        voted.votes = ["user:x": CastVote(decision: .approve, person: "x")]
        #expect(ApprovalRules.vote(.reject, by: Reviewer(principal: "user:x", person: "x"), payloadHashSeen: nil, on: voted, now: now) == .failure(.conflictingVote(.approve)))
        #expect(ApprovalRules.vote(.approve, by: Reviewer(principal: "user:x", person: "x"), payloadHashSeen: nil, on: voted, now: now) == .success(.repeated))
        #expect(ApprovalRules.vote(.reject, by: Reviewer(principal: "user:y", person: "y"), payloadHashSeen: nil, on: voted, now: now) == .success(.recorded(status: .rejected, approvals: 1)))
    }
}
