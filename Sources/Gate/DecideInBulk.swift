import Approvals
import Foundation
import GateCore

/// One decision on many approvals (issue 25: the console's bulk decisions and
/// `POST …/approvals/bulk`): each approval gets the same vote `VoteOnApproval` casts
/// one at a time — same rules, same audit rows — and the answer says which were
/// decided and which were skipped, and why. A bad comment or reason refuses the whole
/// request before anything is written.
public struct DecideInBulk: Sendable {
    public static let maxApprovals = 200
    /// Votes in flight at once: enough to decide 200 in well under a second, few enough
    /// to leave the connection pool to everyone else.
    static let concurrency = 8

    public struct Item: Sendable, Equatable {
        public let approvalID: String
        /// The payload hash the reviewer saw for this approval (nil: not checked, as the API's single vote).
        public let payloadHashSeen: String?
        public init(approvalID: String, payloadHashSeen: String?) {
            self.approvalID = approvalID
            self.payloadHashSeen = payloadHashSeen
        }
    }

    public enum Skip: String, Sendable {
        case notFound = "not_found"
        case ownJob = "own_job"
        case notAPerson = "not_a_person"
        case alreadyDecided = "already_decided"
        case alreadyVoted = "already_voted"
        case expired
        case payloadHashMismatch = "payload_hash_mismatch"
        case notInApproverGroups = "not_in_approver_groups"
        case contended
    }

    public struct Decided: Sendable, Equatable {
        public let approval: ApprovalRecord
    }

    public struct Skipped: Sendable, Equatable {
        public let approvalID: String
        public let reason: Skip
        /// The approval as it is, when there is one.
        public let approval: ApprovalRecord?
    }

    public struct Outcome: Sendable, Equatable {
        /// In the order asked.
        public var decided: [ApprovalRecord] = []
        public var skipped: [Skipped] = []
    }

    public enum Refusal: Error, Sendable, Equatable {
        case empty
        case tooMany(Int)
        case repeated(String)
    }

    let vote: VoteOnApproval

    public init(vote: VoteOnApproval) {
        self.vote = vote
    }

    public func callAsFunction(
        _ ballot: VoteOnApproval.Ballot, on items: [Item], in workspace: String, by reviewer: Reviewer, actor: AuditActor
    ) async throws -> Outcome {
        guard !items.isEmpty else { throw Refusal.empty }
        guard items.count <= Self.maxApprovals else { throw Refusal.tooMany(items.count) }
        var seen = Set<String>()
        for item in items where !seen.insert(item.approvalID).inserted { throw Refusal.repeated(item.approvalID) }
        let ballot = try VoteOnApproval.checked(ballot)

        var results = [(DecisionOutcome?, Bool)?](repeating: nil, count: items.count)
        try await withThrowingTaskGroup(of: (Int, DecisionOutcome?, Bool).self) { group in
            var next = 0
            func start() {
                guard next < items.count else { return }
                let index = next, item = items[index]
                next += 1
                // Not an approval id at all: not found, without asking the store.
                guard SortableID.isWellFormed(item.approvalID, prefix: "apr") else {
                    group.addTask { (index, nil, false) }
                    return
                }
                var single = ballot
                single.payloadHashSeen = item.payloadHashSeen
                group.addTask {
                    do {
                        return (index, try await vote(single, on: item.approvalID, in: workspace, by: reviewer, actor: actor), false)
                    } catch is VoteOnApproval.Contended {
                        return (index, nil, true)
                    }
                }
            }
            for _ in 0..<Self.concurrency { start() }
            while let (index, outcome, contended) = try await group.next() {
                results[index] = (outcome, contended)
                start()
            }
        }
        var outcome = Outcome()
        for (item, result) in zip(items, results) {
            guard let (decision, contended) = result else { continue }
            switch decision {
            case .changed(let approval)?:
                outcome.decided.append(approval)
            case .repeated(let approval)?:
                outcome.skipped.append(Skipped(approvalID: item.approvalID, reason: .alreadyVoted, approval: approval))
            case .refused(let refusal, let approval)?:
                outcome.skipped.append(Skipped(approvalID: item.approvalID, reason: Self.skip(refusal), approval: approval))
            case nil:
                outcome.skipped.append(Skipped(approvalID: item.approvalID, reason: contended ? .contended : .notFound, approval: nil))
            }
        }
        return outcome
    }

    static func skip(_ refusal: VoteRefusal) -> Skip {
        switch refusal {
        case .notAPerson: .notAPerson
        case .ownJob: .ownJob
        case .conflictingVote: .alreadyVoted
        case .notPending: .alreadyDecided
        case .expired: .expired
        case .payloadMismatch: .payloadHashMismatch
        case .notInApproverGroups: .notInApproverGroups
        }
    }
}
