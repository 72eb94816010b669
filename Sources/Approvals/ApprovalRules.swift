import Foundation

public enum ApprovalStatus: String, Sendable, CaseIterable, Codable {
    case pending, approved, rejected, expired, cancelled
}

public enum VoteDecision: String, Sendable, Codable {
    case approve, reject
}

/// What the gate knows about an approval when a reviewer votes.
public struct ApprovalSnapshot: Sendable {
    public var status: ApprovalStatus
    public var requiredApprovals: Int
    public var expiresAt: Date
    public var payloadHash: String
    /// The principal that submitted the job ("api_key:<id>" or "user:<sub>").
    public var submitter: String
    /// The person accountable for the submission, if known.
    public var submitterPerson: String?
    /// Everyone who created (or rotated), directly or transitively, the key that
    /// submitted ("user:<sub>", "api_key:<id>", "cli"); empty for a JWT submission.
    public var submitterCreators: Set<String>
    /// reviewer principal → the vote cast so far.
    public var votes: [String: CastVote]
    /// Who must approve, by group (the policy's rules when the job was submitted); empty:
    /// any `requiredApprovals` distinct people.
    public var approverRules: [ApproverRule]

    public init(
        status: ApprovalStatus, requiredApprovals: Int, expiresAt: Date, payloadHash: String, submitter: String,
        submitterPerson: String?, submitterCreators: Set<String> = [], votes: [String: CastVote], approverRules: [ApproverRule] = []
    ) {
        self.approverRules = approverRules
        self.status = status
        self.requiredApprovals = requiredApprovals
        self.expiresAt = expiresAt
        self.payloadHash = payloadHash
        self.submitter = submitter
        self.submitterPerson = submitterPerson
        self.submitterCreators = submitterCreators
        self.votes = votes
    }
}

public struct CastVote: Sendable, Equatable {
    public let decision: VoteDecision
    public let person: String?
    /// Whose approval the vote can be, recorded when it was cast under group rules; nil
    /// (any other vote): its person's, in no group.
    public let standings: [Standing]?

    public init(decision: VoteDecision, person: String?, standings: [Standing]? = nil) {
        self.decision = decision
        self.person = person
        self.standings = standings
    }
}

/// A reviewer: the principal voting ("user:<sub>" or "api_key:<id>") and the person behind it.
public struct Reviewer: Sendable, Equatable {
    public let principal: String
    public let person: String?

    public init(principal: String, person: String?) {
        self.principal = principal
        self.person = person
    }

    /// Votes are people's: a key's vote is refused, and one recorded before that rule
    /// does not count towards a quorum.
    public static func isPerson(_ principal: String) -> Bool { principal.hasPrefix("user:") }
}

public enum VoteRefusal: Error, Sendable, Equatable {
    /// An API key voted: votes are cast by people with their own token (JWT).
    case notAPerson
    /// Separation of duties: nobody decides on a job they (or their key, or a key they
    /// created or rotated, directly or transitively) submitted.
    case ownJob
    /// The reviewer already voted the other way.
    case conflictingVote(VoteDecision)
    /// Decided (or cancelled) already.
    case notPending(ApprovalStatus)
    /// Past `expires_at`, even if the sweeper has not marked it yet.
    case expired
    /// The reviewer saw another payload than the one that would run.
    case payloadMismatch
    /// The policy names who must approve, by group, and the reviewer is in none of
    /// those groups (nor stands in for anybody who is).
    case notInApproverGroups
}

/// The result of a vote that is allowed.
public enum VoteResult: Sendable, Equatable {
    /// The same vote again: nothing changes.
    case repeated
    /// Recorded; the approval moves to `status` (still `pending` below quorum).
    case recorded(status: ApprovalStatus, approvals: Int)
}

/// The gate's rules (SPEC §4), free of storage: only people vote, quorum of distinct
/// people, one rejection rejects, deny after the deadline, no self-approval (nor by
/// anyone behind the submitting key), the hash the reviewer saw must be the hash that
/// runs; with group rules (issue 27) only a member of a named group (or their
/// delegate) decides, and the quorum is a matching of people to the rules' slots.
public enum ApprovalRules {
    /// `standings`: whose approval the reviewer's vote can be (`standings(of:on:)`);
    /// read only when the approval has group rules.
    public static func vote(
        _ decision: VoteDecision, by reviewer: Reviewer, standings: [Standing] = [], payloadHashSeen: String?,
        on approval: ApprovalSnapshot, now: Date
    ) -> Result<VoteResult, VoteRefusal> {
        guard Reviewer.isPerson(reviewer.principal) else { return .failure(.notAPerson) }
        if reviewer.principal == approval.submitter || approval.submitterCreators.contains(reviewer.principal)
            || (reviewer.person != nil && reviewer.person == approval.submitterPerson)
        {
            return .failure(.ownJob)
        }
        if let previous = approval.votes[reviewer.principal] {
            return previous.decision == decision ? .success(.repeated) : .failure(.conflictingVote(previous.decision))
        }
        guard approval.status == .pending else { return .failure(.notPending(approval.status)) }
        guard now < approval.expiresAt else { return .failure(.expired) }
        if let seen = payloadHashSeen, seen != approval.payloadHash { return .failure(.payloadMismatch) }
        let rules = approval.approverRules
        let standings = rules.isEmpty ? [] : counted(standings, on: approval)
        if !rules.isEmpty, !QuorumMatching.canCount(standings, requiredApprovals: approval.requiredApprovals, rules: rules) {
            return .failure(.notInApproverGroups)
        }
        switch decision {
        case .reject:
            return .success(.recorded(status: .rejected, approvals: approvers(approval.votes).count))
        case .approve:
            var people = approvers(approval.votes)
            people.insert(reviewer.person ?? reviewer.principal)
            let count = people.count
            let complete: Bool
            if rules.isEmpty {
                complete = count >= approval.requiredApprovals
            } else {
                var ballots = approvingStandings(approval)
                ballots.append(standings)
                complete =
                    QuorumMatching.filled(ballots, requiredApprovals: approval.requiredApprovals, rules: rules)
                    >= QuorumMatching.quorum(requiredApprovals: approval.requiredApprovals, rules: rules)
            }
            return .success(.recorded(status: complete ? .approved : .pending, approvals: count))
        }
    }

    /// A voter's standings as they count on this approval: never a submitter's — a
    /// delegate cannot lend a job's submitter (or anyone behind its key) their own
    /// approval.
    public static func counted(_ standings: [Standing], on approval: ApprovalSnapshot) -> [Standing] {
        standings.filter { standing in
            !standing.delegated
                || (standing.person != approval.submitterPerson && !approval.submitterCreators.contains("user:\(standing.person)")
                    && "user:\(standing.person)" != approval.submitter)
        }
    }

    /// The approving people's votes as standings, for the quorum matching.
    static func approvingStandings(_ approval: ApprovalSnapshot) -> [[Standing]] {
        approval.votes.filter { $0.value.decision == .approve && Reviewer.isPerson($0.key) }.sorted { $0.key < $1.key }.map {
            counted($0.value.standings ?? [Standing(person: $0.value.person ?? $0.key, groups: [])], on: approval)
        }
    }

    /// Distinct people who approved. Only people's votes count: a key's approval
    /// recorded before keys lost the vote is ignored.
    public static func approvers(_ votes: [String: CastVote]) -> Set<String> {
        Set(votes.filter { $0.value.decision == .approve && Reviewer.isPerson($0.key) }.map { $0.value.person ?? $0.key })
    }
}
