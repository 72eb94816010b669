import Approvals
import Foundation

public struct VoteRecord: Sendable, Equatable {
    public let reviewer: String
    public let reviewerPerson: String?
    public let decision: VoteDecision
    public let comment: String?
    public let payloadHashSeen: String?
    public let createdAt: Date
    /// Whose approval it could be, under group rules (`CastVote.standings`).
    public let standings: [Standing]?

    public init(
        reviewer: String, reviewerPerson: String?, decision: VoteDecision, comment: String?, payloadHashSeen: String?,
        createdAt: Date, standings: [Standing]? = nil
    ) {
        self.standings = standings
        self.reviewer = reviewer
        self.reviewerPerson = reviewerPerson
        self.decision = decision
        self.comment = comment
        self.payloadHashSeen = payloadHashSeen
        self.createdAt = createdAt
    }
}

public struct ApprovalRecord: Sendable, Equatable {
    public let id: String
    public let workspaceID: String
    public let jobID: String
    public let action: String
    public let status: ApprovalStatus
    public let payloadHash: String
    public let requiredApprovals: Int
    public let expiresAt: Date
    public let createdAt: Date
    public let decidedAt: Date?
    public let reason: String?
    public let reasonCode: String?
    public var votes: [VoteRecord]
    /// Who must approve, by group: the policy's rules when the job was submitted.
    public var approverRules: [ApproverRule]

    public init(
        id: String, workspaceID: String, jobID: String, action: String, status: ApprovalStatus, payloadHash: String,
        requiredApprovals: Int, expiresAt: Date, createdAt: Date, decidedAt: Date?, reason: String?,
        reasonCode: String?, votes: [VoteRecord], approverRules: [ApproverRule] = []
    ) {
        self.approverRules = approverRules
        self.id = id
        self.workspaceID = workspaceID
        self.jobID = jobID
        self.action = action
        self.status = status
        self.payloadHash = payloadHash
        self.requiredApprovals = requiredApprovals
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.decidedAt = decidedAt
        self.reason = reason
        self.reasonCode = reasonCode
        self.votes = votes
    }
}

extension ApprovalRecord {
    /// The votes as the gate's rules read them: reviewer principal → decision and person.
    public var castVotes: [String: CastVote] {
        Dictionary(
            uniqueKeysWithValues: votes.map {
                ($0.reviewer, CastVote(decision: $0.decision, person: $0.reviewerPerson, standings: $0.standings))
            })
    }
}

/// The outcome of a vote or a cancellation, as stored.
public enum DecisionOutcome: Sendable, Equatable {
    case changed(ApprovalRecord)
    case repeated(ApprovalRecord)
    case refused(VoteRefusal, ApprovalRecord)
}
