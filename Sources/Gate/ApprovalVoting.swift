import Approvals
import Foundation

/// An approval as one vote sees it: with its votes, what the rules need about the job,
/// the store's clock and the version a write must find unchanged.
public struct ApprovalBallot: Sendable {
    public var approval: ApprovalRecord
    /// The principal that submitted the job ("api_key:<id>" or "user:<sub>").
    public var submitter: String
    public var submitterPerson: String?
    /// The submitting key's creator chain (migrations/0013); empty for a JWT submission.
    public var submitterCreators: [String]
    public var now: Date
    public var version: Int

    public init(
        approval: ApprovalRecord, submitter: String, submitterPerson: String?, submitterCreators: [String] = [], now: Date,
        version: Int
    ) {
        self.approval = approval
        self.submitter = submitter
        self.submitterPerson = submitterPerson
        self.submitterCreators = submitterCreators
        self.now = now
        self.version = version
    }

    public var snapshot: ApprovalSnapshot {
        ApprovalSnapshot(
            status: approval.status, requiredApprovals: approval.requiredApprovals, expiresAt: approval.expiresAt,
            payloadHash: approval.payloadHash, submitter: submitter, submitterPerson: submitterPerson,
            submitterCreators: Set(submitterCreators), votes: approval.castVotes, approverRules: approval.approverRules)
    }
}

/// A vote the rules allow, to be written only if the approval is still at `version`.
public struct VoteWrite: Sendable {
    public var approval: ApprovalRecord
    public var version: Int
    public var decision: VoteDecision
    public var reviewer: Reviewer
    /// Whose approval it can be (recorded when the approval has group rules).
    public var standings: [Standing]?
    public var comment: String?
    public var payloadHashSeen: String?
    /// Where the vote moves the approval (`pending` below quorum).
    public var newStatus: ApprovalStatus
    /// Distinct people who approved, this vote included.
    public var approvals: Int
    /// A rejection's reason and code.
    public var reason: String?
    public var reasonCode: String?
    public var actor: AuditActor

    public init(
        approval: ApprovalRecord, version: Int, decision: VoteDecision, reviewer: Reviewer, comment: String?,
        payloadHashSeen: String?, newStatus: ApprovalStatus, approvals: Int, reason: String?, reasonCode: String?,
        actor: AuditActor, standings: [Standing]? = nil
    ) {
        self.standings = standings
        self.approval = approval
        self.version = version
        self.decision = decision
        self.reviewer = reviewer
        self.comment = comment
        self.payloadHashSeen = payloadHashSeen
        self.newStatus = newStatus
        self.approvals = approvals
        self.reason = reason
        self.reasonCode = reasonCode
        self.actor = actor
    }
}

/// Whose approval a person's vote can be, from the workspace's directory: their own
/// (with their groups) and that of everyone who delegated to them for this moment.
public protocol ReviewerStandingLookup: Sendable {
    func standings(workspaceID: String, person: String) async throws -> [Standing]
}

/// Where votes are read and written. Each write is one atomic step with its audit rows.
public protocol ApprovalVotingStore: Sendable {
    func ballot(workspaceID: String, id: String) async throws -> ApprovalBallot?
    /// Records the vote (and the decision it makes, with the job's new status) if the
    /// approval is still pending, before its deadline and at `vote.version`: the vote's
    /// time and the decision's; nil if the approval changed meanwhile.
    func record(_ vote: VoteWrite) async throws -> (votedAt: Date, decidedAt: Date?)?
    /// Audits a refused vote (`approval.vote_refused`); an approval found past its
    /// deadline is expired first, in the same step. Returns the approval as it is now.
    func refuse(_ refusal: VoteRefusal, decision: VoteDecision, approval: ApprovalRecord, actor: AuditActor) async throws
        -> ApprovalRecord
}
