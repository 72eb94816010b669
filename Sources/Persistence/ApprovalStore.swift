import Approvals
import Foundation
import GateCore
import Logging
import PostgresNIO

public struct VoteRecord: Sendable, Equatable {
    public let reviewer: String
    public let reviewerPerson: String?
    public let decision: VoteDecision
    public let comment: String?
    public let payloadHashSeen: String?
    public let createdAt: Date
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
}

/// The outcome of a vote or a cancellation, as stored.
public enum DecisionOutcome: Sendable, Equatable {
    case changed(ApprovalRecord)
    case repeated(ApprovalRecord)
    case refused(VoteRefusal, ApprovalRecord)
}

/// The channel every job state change is announced on (payload `<workspace>:<job id>`),
/// so long-polls and event streams on any replica learn of it. The trigger
/// `jobs_notify_status` (migrations/0006) sends it, in the changing transaction.
public let jobEventsChannel = "gateapi_jobs"

public struct ApprovalStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = """
        a.id, a.workspace_id, a.job_id, a.action, a.status, a.payload_hash, a.required_approvals, a.expires_at,
        a.created_at, a.decided_at, a.reason, a.reason_code
        """

    public func pendingCount() async throws -> Int {
        let rows = try await client.query("SELECT count(*)::int FROM approvals WHERE status = 'pending'", logger: logger)
        for try await (count) in rows.decode(Int.self) { return count }
        return 0
    }

    public func find(workspaceID: String, id: String) async throws -> ApprovalRecord? {
        try await client.withConnection { connection in
            guard var approval = try await Self.approvals(
                connection.query(
                    "SELECT \(unescaped: Self.columns) FROM approvals a WHERE a.workspace_id = \(workspaceID) AND a.id = \(id)",
                    logger: logger)
            ).first else { return nil }
            approval.votes = try await Self.votes(of: id, on: connection, logger: logger)
            return approval
        }
    }

    public enum Listing: Sendable {
        /// Pending, the one expiring first first.
        case pending
        /// Decided (any status but pending, or one of them), newest first.
        case decided(ApprovalStatus?)
    }

    public func list(workspaceID: String, listing: Listing, action: String?, after cursor: String?, limit: Int) async throws
        -> [ApprovalRecord]
    {
        let rows: PostgresRowSequence
        switch listing {
        case .pending:
            rows = try await client.query(
                """
                SELECT \(unescaped: Self.columns) FROM approvals a
                WHERE a.workspace_id = \(workspaceID) AND a.status = 'pending'
                  AND (\(action)::text IS NULL OR a.action = \(action))
                  AND (\(cursor)::text IS NULL OR (a.expires_at, a.id) > (SELECT expires_at, id FROM approvals WHERE id = \(cursor)))
                ORDER BY a.expires_at, a.id LIMIT \(limit)
                """, logger: logger)
        case .decided(let status):
            rows = try await client.query(
                """
                SELECT \(unescaped: Self.columns) FROM approvals a
                WHERE a.workspace_id = \(workspaceID) AND a.status <> 'pending'
                  AND (\(status?.rawValue)::text IS NULL OR a.status = \(status?.rawValue))
                  AND (\(action)::text IS NULL OR a.action = \(action))
                  AND (\(cursor)::text IS NULL OR a.id < \(cursor))
                ORDER BY a.id DESC LIMIT \(limit)
                """, logger: logger)
        }
        return try await Self.approvals(rows)
    }

    /// Casts a vote under the row lock, applying `ApprovalRules`. Refusals are
    /// audited and committed too; an approval found past its deadline is expired on
    /// the spot (deny by default), whether or not the sweeper got there first.
    public func vote(
        workspaceID: String, id: String, decision: VoteDecision, reviewer: Reviewer, comment: String?,
        payloadHashSeen: String?, reasonCode: String?, actor: AuditActor
    ) async throws -> DecisionOutcome? {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            var found: (ApprovalRecord, String, String?, Date)?
            for try await row in try await connection.execute(
                PreparedQuery<LockStatement>(Self.lockQuery(workspaceID: workspaceID, id: id)), logger: logger)
            {
                let approval = try Self.approval(row)
                let cells = row.makeRandomAccess()
                let submitter = try cells[12].decode(String.self, context: .default)
                let submitterPerson = try cells[13].decode(String?.self, context: .default)
                let now = try cells[14].decode(Date.self, context: .default)
                found = (approval, submitter, submitterPerson, now)
            }
            guard let (found, submitter, submitterPerson, now) = found else { return nil }
            var approval = found
            approval.votes = try await Self.votes(of: id, on: connection, logger: logger)
            let snapshot = ApprovalSnapshot(
                status: approval.status, requiredApprovals: approval.requiredApprovals, expiresAt: approval.expiresAt,
                payloadHash: approval.payloadHash, submitter: submitter, submitterPerson: submitterPerson,
                votes: Dictionary(uniqueKeysWithValues: approval.votes.map { ($0.reviewer, CastVote(decision: $0.decision, person: $0.reviewerPerson)) }))

            switch ApprovalRules.vote(decision, by: reviewer, payloadHashSeen: payloadHashSeen, on: snapshot, now: now) {
            case .failure(let refusal):
                if refusal == .expired, approval.status == .pending {
                    try await Self.expire(approvalID: id, on: connection, logger: logger)
                    approval = try await Self.reload(workspaceID: workspaceID, id: id, on: connection, logger: logger)
                }
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: workspaceID, actor: actor, action: "approval.vote_refused", targetType: "approval",
                        targetID: id, outcome: .denied,
                        details: ["reason": .string(Self.describe(refusal)), "decision": .string(decision.rawValue)]),
                    on: connection, logger: logger)
                return .refused(refusal, approval)
            case .success(.repeated):
                return .repeated(approval)
            case .success(.recorded(let status, let approvals)):
                let reason = decision == .reject ? comment : nil
                let write = Self.recordQuery(
                    approval: approval, decision: decision, reviewer: reviewer, comment: comment,
                    payloadHashSeen: payloadHashSeen, newStatus: status, approvals: approvals, reason: reason,
                    reasonCode: reasonCode, actor: actor)
                var written: (Date, Date?)?
                for try await row in try await connection.execute(PreparedQuery<RecordStatement>(write), logger: logger) {
                    written = try row.decode((Date, Date?).self)
                }
                guard let (votedAt, decidedAt) = written else { throw ApprovalStoreError.vanished }
                var votes = approval.votes
                votes.append(
                    VoteRecord(
                        reviewer: reviewer.principal, reviewerPerson: reviewer.person, decision: decision, comment: comment,
                        payloadHashSeen: payloadHashSeen, createdAt: votedAt))
                let decided = status != .pending
                return .changed(
                    ApprovalRecord(
                        id: approval.id, workspaceID: approval.workspaceID, jobID: approval.jobID, action: approval.action,
                        status: status, payloadHash: approval.payloadHash, requiredApprovals: approval.requiredApprovals,
                        expiresAt: approval.expiresAt, createdAt: approval.createdAt,
                        decidedAt: decided ? decidedAt : approval.decidedAt, reason: decided ? reason : approval.reason,
                        reasonCode: decided ? reasonCode : approval.reasonCode, votes: votes))
            }
        }
    }

    /// The approval under its row lock, with what the rules need about the job and the
    /// database's clock. The votes are read by the next statement: in READ COMMITTED it
    /// takes a new snapshot, so it sees a vote committed while this one waited for the lock.
    static func lockQuery(workspaceID: String, id: String) -> PostgresQuery {
        """
        SELECT \(unescaped: Self.columns), j.submitted_by_type || ':' || j.submitted_by, j.acts_for, clock_timestamp()
        FROM approvals a JOIN jobs j ON j.id = a.job_id
        WHERE a.workspace_id = \(workspaceID) AND a.id = \(id)
        FOR UPDATE OF a
        """
    }

    enum LockStatement: PreparedShape {
        static let name = "gateapi_approval_lock"
        static let sql = ApprovalStore.lockQuery(workspaceID: "", id: "").sql
    }

    /// A recorded vote in one statement (one round trip, under the lock): the vote, the
    /// approval's and job's new status when it decides them, and the audit rows
    /// `approval.voted` then `approval.granted`/`approval.rejected`, in that order.
    /// Returns the vote's time and, if decided, the decision's.
    static func recordQuery(
        approval: ApprovalRecord, decision: VoteDecision, reviewer: Reviewer, comment: String?, payloadHashSeen: String?,
        newStatus: ApprovalStatus, approvals: Int, reason: String?, reasonCode: String?, actor: AuditActor
    ) -> PostgresQuery {
        let decided = newStatus != .pending
        let voted = AuditEvent(
            workspaceID: approval.workspaceID, actor: actor, action: "approval.voted", targetType: "approval",
            details: [
                "decision": .string(decision.rawValue), "job_id": .string(approval.jobID),
                "approvals": .integer(approvals), "required_approvals": .integer(approval.requiredApprovals),
                "payload_hash_seen": payloadHashSeen.map { .string($0) } ?? .null,
            ])
        let decisionMade = AuditEvent(
            workspaceID: approval.workspaceID, actor: actor,
            action: newStatus == .approved ? "approval.granted" : "approval.rejected", targetType: "approval",
            details: ["job_id": .string(approval.jobID), "approvals": .integer(approvals)])
        return """
            WITH vote AS (
                INSERT INTO approval_votes (approval_id, reviewer, reviewer_person, decision, comment, payload_hash_seen)
                VALUES (\(approval.id), \(reviewer.principal), \(reviewer.person)::text, \(decision.rawValue),
                        \(comment)::text, \(payloadHashSeen)::text)
                RETURNING approval_id, created_at
            ), a AS (
                UPDATE approvals SET status = \(newStatus.rawValue), decided_at = clock_timestamp(), reason = \(reason)::text,
                    reason_code = \(reasonCode)::text
                WHERE id = \(approval.id) AND \(decided)
                RETURNING id, job_id, decided_at
            ), j AS (
                UPDATE jobs SET status = \(newStatus == .approved ? "approved" : "rejected"), updated_at = clock_timestamp(),
                    status_reason = \(reason)::text, status_code = \(reasonCode)::text
                FROM a WHERE jobs.id = a.job_id
            ), audit AS (
                \(auditFrom: [
                    AuditFrom(source: "vote", targetIDColumn: "approval_id", event: voted),
                    AuditFrom(source: "a", targetIDColumn: "id", event: decisionMade),
                ])
            )
            SELECT vote.created_at, (SELECT decided_at FROM a) FROM vote
            """
    }

    enum RecordStatement: PreparedShape {
        static let name = "gateapi_approval_record_vote"
        static let sql = ApprovalStore.recordQuery(
            approval: ApprovalRecord(
                id: "", workspaceID: "", jobID: "", action: "", status: .pending, payloadHash: "", requiredApprovals: 1,
                expiresAt: Date(), createdAt: Date(), decidedAt: nil, reason: nil, reasonCode: nil, votes: []),
            decision: .approve, reviewer: Reviewer(principal: "", person: nil), comment: nil, payloadHashSeen: nil,
            newStatus: .pending, approvals: 0, reason: nil, reasonCode: nil, actor: AuditActor(kind: .system, id: nil)
        ).sql
    }

    public enum CancelOutcome: Sendable, Equatable {
        case cancelled(JobRecord)
        case alreadyCancelled(JobRecord)
        case notCancellable(JobRecord)
        case notAllowed
    }

    /// Cancels a pending job (and its approval) for its submitter or an admin.
    public func cancel(workspaceID: String, jobID: String, by principal: String, isAdmin: Bool, actor: AuditActor)
        async throws -> CancelOutcome?
    {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: JobStore.columns) FROM jobs WHERE workspace_id = \(workspaceID) AND id = \(jobID) FOR UPDATE",
                logger: logger)
            guard let job = try await JobStore.records(rows).first else { return nil }
            guard isAdmin || "\(job.submittedByType):\(job.submittedBy)" == principal else { return .notAllowed }
            switch job.status {
            case .cancelled: return .alreadyCancelled(job)
            case .pendingApproval: break
            default: return .notCancellable(job)
            }
            let updated = try await connection.query(
                """
                WITH a AS (
                    UPDATE approvals SET status = 'cancelled', decided_at = clock_timestamp()
                    WHERE job_id = \(jobID) AND status = 'pending'
                )
                UPDATE jobs SET status = 'cancelled', updated_at = clock_timestamp(), status_reason = 'cancelled by ' || \(principal)
                WHERE id = \(jobID)
                RETURNING \(unescaped: JobStore.columns)
                """, logger: logger)
            guard let cancelled = try await JobStore.records(updated).first else { return nil }
            try await AuditLog.append(
                AuditEvent(workspaceID: workspaceID, actor: actor, action: "job.cancelled", targetType: "job", targetID: jobID),
                on: connection, logger: logger)
            return .cancelled(cancelled)
        }
    }

    /// Expires up to `limit` pending approvals past their deadline, across all
    /// workspaces, in one statement. `SKIP LOCKED` lets every replica sweep at once
    /// without two of them touching one approval; each expiry is audited (and announced
    /// by the jobs trigger).
    public func expireDue(limit: Int = 100) async throws -> [(workspaceID: String, jobID: String)] {
        let event = AuditEvent(
            workspaceID: "", actor: AuditActor(kind: .system, id: "expiry-sweeper"), action: "approval.expired",
            targetType: "approval")
        let rows = try await client.query(
            """
            WITH due AS (
                SELECT id FROM approvals WHERE status = 'pending' AND expires_at <= clock_timestamp()
                ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            ), expired AS (
                UPDATE approvals a SET status = 'expired', decided_at = clock_timestamp()
                FROM due WHERE a.id = due.id AND a.status = 'pending'
                RETURNING a.id, a.workspace_id, a.job_id, jsonb_build_object('job_id', a.job_id) AS details
            ), jobs_expired AS (
                UPDATE jobs SET status = 'expired', updated_at = clock_timestamp(), status_reason = 'approval expired'
                FROM expired WHERE jobs.id = expired.job_id AND jobs.status = 'pending_approval'
            ), audit AS (
                \(auditFrom: "expired", targetIDColumn: "id", event: event, workspaceColumn: "workspace_id", detailsColumn: "details")
            )
            SELECT workspace_id, job_id FROM expired
            """, logger: logger)
        var expired: [(String, String)] = []
        for try await (workspace, job) in rows.decode((String, String).self) { expired.append((workspace, job)) }
        return expired
    }

    static func expire(approvalID: String, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            WITH a AS (
                UPDATE approvals SET status = 'expired', decided_at = clock_timestamp()
                WHERE id = \(approvalID) AND status = 'pending' RETURNING workspace_id, job_id
            ), j AS (
                UPDATE jobs SET status = 'expired', updated_at = clock_timestamp(), status_reason = 'approval expired'
                FROM a WHERE jobs.id = a.job_id AND jobs.status = 'pending_approval'
            )
            SELECT workspace_id, job_id FROM a
            """, logger: logger)
        for try await (workspace, job) in rows.decode((String, String).self) {
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: workspace, actor: AuditActor(kind: .system, id: "deadline"), action: "approval.expired",
                    targetType: "approval", targetID: approvalID, details: ["job_id": .string(job)]),
                on: connection, logger: logger)
        }
    }

    static func reload(workspaceID: String, id: String, on connection: PostgresConnection, logger: Logger) async throws
        -> ApprovalRecord
    {
        let rows = try await connection.query(
            "SELECT \(unescaped: columns) FROM approvals a WHERE a.workspace_id = \(workspaceID) AND a.id = \(id)", logger: logger)
        guard let approval = try await approvals(rows).first else { throw ApprovalStoreError.vanished }
        return approval
    }

    static func votes(of approvalID: String, on connection: PostgresConnection, logger: Logger) async throws -> [VoteRecord] {
        var votes: [VoteRecord] = []
        for try await row in try await connection.execute(PreparedQuery<VotesStatement>(votesQuery(approvalID)), logger: logger) {
            let (reviewer, person, decision, comment, seen, createdAt) = try row.decode(
                (String, String?, String, String?, String?, Date).self)
            votes.append(
                VoteRecord(
                    reviewer: reviewer, reviewerPerson: person, decision: VoteDecision(rawValue: decision) ?? .reject,
                    comment: comment, payloadHashSeen: seen, createdAt: createdAt))
        }
        return votes
    }

    static func votesQuery(_ approvalID: String) -> PostgresQuery {
        """
        SELECT reviewer, reviewer_person, decision, comment, payload_hash_seen, created_at
        FROM approval_votes WHERE approval_id = \(approvalID) ORDER BY created_at
        """
    }

    enum VotesStatement: PreparedShape {
        static let name = "gateapi_approval_votes"
        static let sql = ApprovalStore.votesQuery("").sql
    }

    static func approvals(_ rows: PostgresRowSequence) async throws -> [ApprovalRecord] {
        var result: [ApprovalRecord] = []
        for try await row in rows { result.append(try approval(row)) }
        return result
    }

    static func approval(_ row: PostgresRow) throws -> ApprovalRecord {
        let (id, workspaceID, jobID, action, status, payloadHash, required, expiresAt, createdAt, decidedAt, reason, code) =
            try row.decode((String, String, String, String, String, String, Int, Date, Date, Date?, String?, String?).self)
        return ApprovalRecord(
            id: id, workspaceID: workspaceID, jobID: jobID, action: action, status: ApprovalStatus(rawValue: status) ?? .pending,
            payloadHash: payloadHash, requiredApprovals: required, expiresAt: expiresAt, createdAt: createdAt,
            decidedAt: decidedAt, reason: reason, reasonCode: code, votes: [])
    }

    static func describe(_ refusal: VoteRefusal) -> String {
        switch refusal {
        case .ownJob: return "own_job"
        case .conflictingVote: return "conflicting_vote"
        case .notPending(let status): return "not_pending:\(status.rawValue)"
        case .expired: return "expired"
        case .payloadMismatch: return "payload_hash_mismatch"
        }
    }
}

public enum ApprovalStoreError: Error {
    case vanished
}
