import Actions
import Approvals
import Foundation
import GateCore

/// A reviewer's vote (SPEC §4 the gate): `ApprovalRules` applied to the approval as
/// read, then written only if nobody changed the approval in between; if somebody did,
/// it reads again. Refusals are audited, and an approval found past its deadline is
/// expired on the spot (deny by default), whether or not the sweeper got there first.
public struct VoteOnApproval: Sendable {
    /// What a reviewer sends: the decision, their comment (a rejection's reason), the
    /// rejection's code, and the payload hash they reviewed.
    public struct Ballot: Sendable {
        public var decision: VoteDecision
        public var comment: String?
        public var reasonCode: String?
        public var payloadHashSeen: String?

        public init(decision: VoteDecision, comment: String?, reasonCode: String? = nil, payloadHashSeen: String? = nil) {
            self.decision = decision
            self.comment = comment
            self.reasonCode = reasonCode
            self.payloadHashSeen = payloadHashSeen
        }
    }

    /// Other votes or decisions kept landing first; nothing of this one was written.
    public struct Contended: Error, Sendable, Equatable {
        public init() {}
    }

    let store: any ApprovalVotingStore
    /// The directory's word on a voter's groups and delegations, asked only for an
    /// approval with group rules. Without it, nobody is in any group there (such an
    /// approval is then decided by nobody and expires: deny by default).
    let standingLookup: (any ReviewerStandingLookup)?
    /// Told of each approval a vote decided (the server measures decision latency).
    let decided: @Sendable (ApprovalRecord) -> Void

    public init(
        store: any ApprovalVotingStore, standingLookup: (any ReviewerStandingLookup)? = nil,
        decided: @escaping @Sendable (ApprovalRecord) -> Void = { _ in }
    ) {
        self.store = store
        self.standingLookup = standingLookup
        self.decided = decided
    }

    /// Reviewers of one approval are few (a quorum is at most 10), and a write fails
    /// only when another vote or decision on it succeeded.
    static let attempts = 16

    /// The vote's outcome; nil if the workspace has no such approval. Throws
    /// `ValidationFailure` for a comment, reason or code out of bounds (nothing written).
    public func callAsFunction(
        _ ballot: Ballot, on approvalID: String, in workspace: String, by reviewer: Reviewer, actor: AuditActor
    ) async throws -> DecisionOutcome? {
        let ballot = try Self.checked(ballot)
        var standings: [Standing]?
        for _ in 0..<Self.attempts {
            guard let state = try await store.ballot(workspaceID: workspace, id: approvalID) else { return nil }
            let approval = state.approval
            let decision = ballot.decision
            if !approval.approverRules.isEmpty, standings == nil, Reviewer.isPerson(reviewer.principal) {
                standings = try await self.standings(of: reviewer, in: workspace)
            }
            switch ApprovalRules.vote(
                decision, by: reviewer, standings: standings ?? [], payloadHashSeen: ballot.payloadHashSeen, on: state.snapshot,
                now: state.now)
            {
            case .failure(let refusal):
                return .refused(refusal, try await store.refuse(refusal, decision: decision, approval: approval, actor: actor))
            case .success(.repeated):
                return .repeated(approval)
            case .success(.recorded(let status, let approvals)):
                let reason = decision == .reject ? ballot.comment : nil
                let write = VoteWrite(
                    approval: approval, version: state.version, decision: decision, reviewer: reviewer, comment: ballot.comment,
                    payloadHashSeen: ballot.payloadHashSeen, newStatus: status, approvals: approvals, reason: reason,
                    reasonCode: ballot.reasonCode, actor: actor,
                    standings: approval.approverRules.isEmpty ? nil : standings.map { ApprovalRules.counted($0, on: state.snapshot) })
                // Nothing written: another vote or decision came first; read again.
                guard let (votedAt, decidedAt) = try await store.record(write) else { continue }
                let changed = Self.approval(approval, after: write, votedAt: votedAt, decidedAt: decidedAt)
                if changed.status != .pending { decided(changed) }
                return .changed(changed)
            }
        }
        throw Contended()
    }

    /// The voter's own standing (in the directory's groups, if listed there) and those
    /// lent by delegation.
    func standings(of reviewer: Reviewer, in workspace: String) async throws -> [Standing] {
        let person = reviewer.person ?? String(reviewer.principal.dropFirst("user:".count))
        var standings = try await standingLookup?.standings(workspaceID: workspace, person: person) ?? []
        if !standings.contains(where: { $0.person == person && !$0.delegated }) {
            standings.insert(Standing(person: person, groups: []), at: 0)
        }
        return standings
    }

    /// The approval as the written vote left it.
    static func approval(_ approval: ApprovalRecord, after vote: VoteWrite, votedAt: Date, decidedAt: Date?) -> ApprovalRecord {
        var changed = approval
        changed.votes.append(
            VoteRecord(
                reviewer: vote.reviewer.principal, reviewerPerson: vote.reviewer.person, decision: vote.decision,
                comment: vote.comment, payloadHashSeen: vote.payloadHashSeen, createdAt: votedAt, standings: vote.standings))
        guard vote.newStatus != .pending else { return changed }
        return ApprovalRecord(
            id: approval.id, workspaceID: approval.workspaceID, jobID: approval.jobID, action: approval.action,
            status: vote.newStatus, payloadHash: approval.payloadHash, requiredApprovals: approval.requiredApprovals,
            expiresAt: approval.expiresAt, createdAt: approval.createdAt, decidedAt: decidedAt, reason: vote.reason,
            reasonCode: vote.reasonCode, votes: changed.votes, approverRules: approval.approverRules)
    }

    /// The ballot as it will be written (a rejection's reason trimmed), or
    /// `ValidationFailure`.
    static func checked(_ ballot: Ballot) throws -> Ballot {
        var ballot = ballot
        if ballot.decision == .reject { ballot.comment = ballot.comment?.trimmingCharacters(in: .whitespacesAndNewlines) }
        try validate(ballot)
        return ballot
    }

    /// A rejection needs a reason (1–2000 characters); an approval's comment is at most
    /// 2000; a code is 1–64 characters; none may hold NUL or (a code) control characters.
    static func validate(_ ballot: Ballot) throws {
        switch ballot.decision {
        case .approve:
            if let comment = ballot.comment, comment.count > 2000 || comment.unicodeScalars.contains("\u{0}") {
                throw ValidationFailure([FieldError(field: "comment", message: "must be at most 2000 characters, without NUL")])
            }
        case .reject:
            let reason = ballot.comment ?? ""
            guard (1...2000).contains(reason.count), !reason.unicodeScalars.contains("\u{0}") else {
                throw ValidationFailure([FieldError(field: "reason", message: "must be 1 to 2000 characters, without NUL")])
            }
        }
        if let code = ballot.reasonCode, !(1...64).contains(code.count) || code.containsControlCharacters {
            throw ValidationFailure([FieldError(field: "code", message: "must be 1 to 64 characters without control characters")])
        }
    }
}
