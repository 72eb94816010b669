import Approvals
import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

/// The channel every job state change is announced on (payload `<workspace>:<job id>`),
/// so long-polls and event streams on any replica learn of it. The trigger
/// `jobs_notify_status` (migrations/0006) sends it, in the changing transaction.
public let jobEventsChannel = "gateapi_jobs"

public struct ApprovalStore: ApprovalVotingStore, JobCancellationStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = """
        a.id, a.workspace_id, a.job_id, a.action, a.status, a.payload_hash, a.required_approvals, a.expires_at,
        a.created_at, a.decided_at, a.reason, a.reason_code, a.approver_rules::text
        """

    public func pendingCount() async throws -> Int {
        let rows = try await client.query("SELECT count(*)::int FROM approvals WHERE status = 'pending'", logger: logger)
        for try await (count) in rows.decode(Int.self) { return count }
        return 0
    }

    public func find(workspaceID: String, id: String) async throws -> ApprovalRecord? {
        try await ballot(workspaceID: workspaceID, id: id)?.approval
    }

    public enum Listing: Sendable {
        /// Pending, the one expiring first first.
        case pending
        /// Decided (any status but pending, or one of them), newest first.
        case decided(ApprovalStatus?)
    }

    /// `cursor` is the last approval of the previous page. One that is not this
    /// workspace's gives an empty page: it must not position a listing by another
    /// workspace's approval (whose deadline it would reveal).
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
                  AND (\(cursor)::text IS NULL OR (a.expires_at, a.id) > (
                      SELECT expires_at, id FROM approvals WHERE workspace_id = \(workspaceID) AND id = \(cursor)))
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

    /// Audits a refused vote; one past its deadline expires the approval first, in the
    /// same transaction. Returns the approval as it is now.
    public func refuse(_ refusal: VoteRefusal, decision: VoteDecision, approval: ApprovalRecord, actor: AuditActor)
        async throws -> ApprovalRecord
    {
        let event = AuditEvent(
            workspaceID: approval.workspaceID, actor: actor, action: "approval.vote_refused", targetType: "approval",
            targetID: approval.id, outcome: .denied,
            details: ["reason": .string(Self.describe(refusal)), "decision": .string(decision.rawValue)])
        guard refusal == .expired, approval.status == .pending else {
            try await AuditLog.record(event, client: client, logger: logger)
            return approval
        }
        let logger = self.logger
        return try await TransactionConflict.retrying {
            try await client.transaction(logger: logger) { connection in
                try await Self.expire(approvalID: approval.id, on: connection, logger: logger)
                let expired = try await Self.reload(
                    workspaceID: approval.workspaceID, id: approval.id, on: connection, logger: logger)
                try await AuditLog.append(event, on: connection, logger: logger)
                return expired
            }
        }
    }

    /// The approval and its votes in one statement (one snapshot): a row per vote, or
    /// one row with NULL vote columns.
    public func ballot(workspaceID: String, id: String) async throws -> ApprovalBallot? {
        try await Self.ballot(
            client.execute(PreparedQuery<StateStatement>(Self.stateQuery(workspaceID: workspaceID, id: id)), logger: logger))
    }

    /// The same, inside a transaction of the caller's.
    static func ballot(workspaceID: String, id: String, on connection: PostgresConnection, logger: Logger) async throws -> ApprovalBallot? {
        try await ballot(connection.query(stateQuery(workspaceID: workspaceID, id: id), logger: logger))
    }

    static func ballot(_ rows: some AsyncSequence<PostgresRow, any Error>) async throws -> ApprovalBallot? {
        var state: ApprovalBallot?
        for try await row in rows {
            let cells = row.makeRandomAccess()
            if state == nil {
                state = ApprovalBallot(
                    approval: try Self.approval(row), submitter: try cells[13].decode(String.self, context: .default),
                    submitterPerson: try cells[14].decode(String?.self, context: .default),
                    submitterCreators: try cells[23].decode([String].self, context: .default),
                    now: try cells[15].decode(Date.self, context: .default), version: try cells[16].decode(Int.self, context: .default))
            }
            guard let reviewer = try cells[17].decode(String?.self, context: .default) else { continue }
            state?.approval.votes.append(
                VoteRecord(
                    reviewer: reviewer, reviewerPerson: try cells[18].decode(String?.self, context: .default),
                    decision: VoteDecision(rawValue: try cells[19].decode(String.self, context: .default)) ?? .reject,
                    comment: try cells[20].decode(String?.self, context: .default),
                    payloadHashSeen: try cells[21].decode(String?.self, context: .default),
                    createdAt: try cells[22].decode(Date.self, context: .default),
                    standings: StandingsJSON.decode(try cells[24].decode(String?.self, context: .default))))
        }
        return state
    }

    static func stateQuery(workspaceID: String, id: String) -> PostgresQuery {
        """
        SELECT \(unescaped: Self.columns), j.submitted_by_type || ':' || j.submitted_by, j.acts_for, clock_timestamp(), a.version,
               v.reviewer, v.reviewer_person, v.decision, v.comment, v.payload_hash_seen, v.created_at,
               coalesce(k.creator_chain, '{}'), v.standings::text
        FROM approvals a JOIN jobs j ON j.id = a.job_id
        LEFT JOIN api_keys k ON j.submitted_by_type = 'api_key' AND k.id = j.submitted_by
        LEFT JOIN approval_votes v ON v.approval_id = a.id
        WHERE a.workspace_id = \(workspaceID) AND a.id = \(id)
        ORDER BY v.created_at
        """
    }

    enum StateStatement: PreparedShape {
        static let name = "gateapi_approval_state"
        static let sql = ApprovalStore.stateQuery(workspaceID: "", id: "").sql
    }

    /// A recorded vote in one statement, if the approval is still pending, before its
    /// deadline and at `version`: the version bump (which row-locks the approval, so
    /// simultaneous votes serialise here), the vote, the approval's and job's new status
    /// when it decides them, and the audit rows `approval.voted` then
    /// `approval.granted`/`approval.rejected`, in that order. Returns the vote's time
    /// and, if decided, the decision's; no row if the approval changed.
    static func recordQuery(_ vote: VoteWrite) -> PostgresQuery {
        let (approval, version, decision, reviewer, comment, payloadHashSeen, newStatus, approvals, reason, reasonCode, actor) = (
            vote.approval, vote.version, vote.decision, vote.reviewer, vote.comment, vote.payloadHashSeen, vote.newStatus,
            vote.approvals, vote.reason, vote.reasonCode, vote.actor
        )
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
            WITH a AS (
                UPDATE approvals SET version = version + 1, status = \(newStatus.rawValue),
                    decided_at = CASE WHEN \(decided) THEN clock_timestamp() END,
                    reason = \(decided ? reason : nil)::text, reason_code = \(decided ? reasonCode : nil)::text
                WHERE id = \(approval.id) AND version = \(version) AND status = 'pending' AND expires_at > clock_timestamp()
                RETURNING id, job_id, decided_at
            ), vote AS (
                INSERT INTO approval_votes (approval_id, reviewer, reviewer_person, decision, comment, payload_hash_seen, standings)
                SELECT a.id, \(reviewer.principal), \(reviewer.person)::text, \(decision.rawValue), \(comment)::text,
                       \(payloadHashSeen)::text, \(StandingsJSON.encode(vote.standings))::text::jsonb
                FROM a
                RETURNING approval_id, created_at
            ), decided AS (
                SELECT id, job_id, decided_at FROM a WHERE \(decided)
            ), j AS (
                UPDATE jobs SET status = \(newStatus == .approved ? "approved" : "rejected"), updated_at = clock_timestamp(),
                    status_reason = \(reason)::text, status_code = \(reasonCode)::text
                FROM decided WHERE jobs.id = decided.job_id
            ), audit AS (
                \(auditFrom: [
                    AuditFrom(source: "vote", targetIDColumn: "approval_id", event: voted),
                    AuditFrom(source: "decided", targetIDColumn: "id", event: decisionMade),
                ])
            )
            SELECT vote.created_at, (SELECT decided_at FROM decided) FROM vote
            """
    }

    /// Records a vote (`recordQuery`): the vote's time and the decision's, or nil if the
    /// approval changed. A statement Postgres aborted as a conflict is written again.
    public func record(_ vote: VoteWrite) async throws -> (votedAt: Date, decidedAt: Date?)? {
        let write = Self.recordQuery(vote)
        return try await TransactionConflict.retrying {
            var written: (Date, Date?)?
            for try await row in try await client.execute(PreparedQuery<RecordStatement>(write), logger: logger) {
                written = try row.decode((Date, Date?).self)
            }
            return written
        }
    }

    enum RecordStatement: PreparedShape {
        static let name = "gateapi_approval_record_vote"
        static let sql = ApprovalStore.recordQuery(
            VoteWrite(
                approval: ApprovalRecord(
                    id: "", workspaceID: "", jobID: "", action: "", status: .pending, payloadHash: "", requiredApprovals: 1,
                    expiresAt: Date(), createdAt: Date(), decidedAt: nil, reason: nil, reasonCode: nil, votes: []),
                version: 0, decision: .approve, reviewer: Reviewer(principal: "", person: nil), comment: nil,
                payloadHashSeen: nil, newStatus: .pending, approvals: 0, reason: nil, reasonCode: nil,
                actor: AuditActor(kind: .system, id: nil))
        ).sql
    }

    /// Cancels a pending job (and its approval) if `allowed` says the caller may.
    ///
    /// Lock order, the same everywhere a job and its approval both change: the approval
    /// first, then the job. A vote (`recordQuery`), the expiry sweep and `expire` update
    /// the approval and then the job in one statement; a cancel that locked the job
    /// first deadlocked with a vote on it (issue 22: 6–14 of 60 simultaneous
    /// cancel-and-approve pairs answered 500). Only a pending approval is locked: the
    /// history purge, which deletes jobs before their approvals, never touches one.
    public func cancel(
        workspaceID: String, jobID: String, by principal: String, actor: AuditActor,
        allowed: @escaping @Sendable (JobRecord) -> Bool
    ) async throws -> JobCancellation? {
        let logger = self.logger
        return try await TransactionConflict.retrying {
            try await client.transaction(logger: logger) { connection in
                try await Self.cancel(
                    workspaceID: workspaceID, jobID: jobID, by: principal, allowed: allowed, actor: actor, on: connection,
                    logger: logger)
            }
        }
    }

    private static func cancel(
        workspaceID: String, jobID: String, by principal: String, allowed: (JobRecord) -> Bool, actor: AuditActor,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> JobCancellation? {
        let approval = try await connection.query(
            """
            SELECT id FROM approvals WHERE workspace_id = \(workspaceID) AND job_id = \(jobID) AND status = 'pending'
            FOR UPDATE
            """, logger: logger)
        for try await _ in approval {}
        let rows = try await connection.query(
            "SELECT \(unescaped: JobStore.columns) FROM jobs WHERE workspace_id = \(workspaceID) AND id = \(jobID) FOR UPDATE",
            logger: logger)
        guard let job = try await JobStore.records(rows).first else { return nil }
        guard allowed(job) else { return .notAllowed }
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

    /// Expires up to `limit` pending approvals past their deadline, across all
    /// workspaces, in one statement. `SKIP LOCKED` lets every replica sweep at once
    /// without two of them touching one approval; each expiry is audited (and announced
    /// by the jobs trigger).
    public func expireDue(limit: Int = 100) async throws -> [(workspaceID: String, jobID: String)] {
        try await TransactionConflict.retrying {
            let rows = try await client.query(Self.expireDueStatement(limit: limit), logger: logger)
            var expired: [(String, String)] = []
            for try await (workspace, job) in rows.decode((String, String).self) { expired.append((workspace, job)) }
            return expired
        }
    }

    /// `expireDue`'s statement. The deadline is compared with `statement_timestamp()`,
    /// not `clock_timestamp()`: a volatile function cannot bound an index scan, so the
    /// sweep read every pending approval every second, a cost that grew with the queue
    /// (bench/HISTORY.md "Tenth round"); now it reads the due ones and stops.
    static func expireDueStatement(limit: Int) -> PostgresQuery {
        let event = AuditEvent(
            workspaceID: "", actor: AuditActor(kind: .system, id: "expiry-sweeper"), action: "approval.expired",
            targetType: "approval")
        return """
            WITH due AS (
                SELECT id FROM approvals WHERE status = 'pending' AND expires_at <= statement_timestamp()
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
            """
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

    static func approvals(_ rows: PostgresRowSequence) async throws -> [ApprovalRecord] {
        var result: [ApprovalRecord] = []
        for try await row in rows { result.append(try approval(row)) }
        return result
    }

    static func approval(_ row: PostgresRow) throws -> ApprovalRecord {
        let (id, workspaceID, jobID, action, status, payloadHash, required, expiresAt, createdAt, decidedAt, reason, code, rules) =
            try row.decode((String, String, String, String, String, String, Int, Date, Date, Date?, String?, String?, String?).self)
        return ApprovalRecord(
            id: id, workspaceID: workspaceID, jobID: jobID, action: action, status: ApprovalStatus(rawValue: status) ?? .pending,
            payloadHash: payloadHash, requiredApprovals: required, expiresAt: expiresAt, createdAt: createdAt,
            decidedAt: decidedAt, reason: reason, reasonCode: code, votes: [], approverRules: try ApproverRulesJSON.decode(rules))
    }

    static func describe(_ refusal: VoteRefusal) -> String {
        switch refusal {
        case .notAPerson: return "not_a_person"
        case .ownJob: return "own_job"
        case .conflictingVote: return "conflicting_vote"
        case .notPending(let status): return "not_pending:\(status.rawValue)"
        case .expired: return "expired"
        case .payloadMismatch: return "payload_hash_mismatch"
        case .notInApproverGroups: return "not_in_approver_groups"
        }
    }
}

public enum ApprovalStoreError: Error {
    case vanished
}
