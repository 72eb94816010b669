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

    func grouped(_ rules: [ApproverRule], required: Int = 0, votes: [String: [Standing]] = [:]) -> ApprovalSnapshot {
        var snapshot = base
        snapshot.requiredApprovals = required
        snapshot.approverRules = rules
        snapshot.votes = votes.mapValues { CastVote(decision: .approve, person: $0[0].person, standings: $0) }
        return snapshot
    }

    func approve(_ person: String, _ standings: [Standing], on snapshot: ApprovalSnapshot) -> Result<VoteResult, VoteRefusal> {
        ApprovalRules.vote(.approve, by: Reviewer(principal: "user:\(person)", person: person), standings: standings, payloadHashSeen: nil, on: snapshot, now: Date())
    }

    @Test func groupRulesAreAMatchingOfDistinctPeopleToSlots() {
        let rules = [ApproverRule(group: "finance", count: 1), ApproverRule(group: "security", count: 1)]
        let both = Standing(person: "kim", groups: ["finance", "security"])
        // One person in both groups fills one slot, not two.
        #expect(approve("kim", [both], on: grouped(rules)) == .success(.recorded(status: .pending, approvals: 1)))
        // Kim can be either; Rita only finance: together they fill both.
        let withSam = grouped(rules, votes: ["user:kim": [both]])
        #expect(approve("rita", [Standing(person: "rita", groups: ["finance"])], on: withSam) == .success(.recorded(status: .approved, approvals: 2)))
        // Outside every named group, with no free slot: refused, approving or rejecting.
        #expect(approve("omar", [Standing(person: "omar", groups: ["ops"])], on: withSam) == .failure(.notInApproverGroups))
        #expect(ApprovalRules.vote(.reject, by: Reviewer(principal: "user:omar", person: "omar"), standings: [], payloadHashSeen: nil, on: withSam, now: Date()) == .failure(.notInApproverGroups))
        // A free slot (3 needed, rules ask 2): anyone may fill it.
        #expect(approve("omar", [Standing(person: "omar", groups: [])], on: grouped(rules, required: 3, votes: ["user:kim": [both]]))
            == .success(.recorded(status: .pending, approvals: 2)))
    }

    @Test func aDelegatesVoteCountsOnceAndNeverTwiceForTheSamePerson() {
        let rules = [ApproverRule(group: "security", count: 2)]
        let sec = Standing(person: "sec", groups: ["security"])
        let omarForSec = [Standing(person: "omar", groups: []), Standing(person: "sec", groups: ["security"], delegated: true)]
        // Sec approved herself; Omar standing in for her is not a second security approval.
        #expect(approve("omar", omarForSec, on: grouped(rules, votes: ["user:sec": [sec]])) == .success(.recorded(status: .pending, approvals: 2)))
        // With Kim (security) it completes.
        let kimToo = grouped(rules, votes: ["user:omar": omarForSec])
        #expect(approve("kim", [Standing(person: "kim", groups: ["security"])], on: kimToo) == .success(.recorded(status: .approved, approvals: 2)))
        // A delegate never lends the submitter (Kim here) their own standing.
        var kimsJob = grouped(rules)
        kimsJob.submitterPerson = "kim"
        let omarForKim = [Standing(person: "omar", groups: []), Standing(person: "kim", groups: ["security"], delegated: true)]
        #expect(approve("omar", omarForKim, on: kimsJob) == .failure(.notInApproverGroups))
    }

    @Test func theMatchingFindsAnAssignmentAGreedyOneWouldMiss() {
        // Ann could be finance or security, Bo only security: Ann must take finance.
        let rules = [ApproverRule(group: "finance", count: 1), ApproverRule(group: "security", count: 1)]
        let votes = [[Standing(person: "ann", groups: ["security", "finance"])], [Standing(person: "bo", groups: ["security"])]]
        #expect(QuorumMatching.filled(votes, requiredApprovals: 2, rules: rules) == 2)
        #expect(QuorumMatching.filled([votes[1], votes[1]], requiredApprovals: 2, rules: rules) == 1)
    }
}
