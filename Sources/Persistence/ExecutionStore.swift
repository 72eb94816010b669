import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

/// A job an executor holds the lease on. Only `leaseToken` can record its outcome.
public struct ExecutionClaim: Sendable {
    public let job: JobRecord
    public let leaseToken: String
    /// 1 for the first run; counts runs that died with their replica too.
    public var attempt: Int { job.attempts }
    /// The hash the reviewers approved (nil for jobs that needed no approval).
    public let approvedPayloadHash: String?
    /// The previous holder's lease ran out mid-run (its replica died or hung): it may
    /// have done the work without recording it.
    public let leaseRecovered: Bool
    /// Some earlier attempt (before a retry, a lease recovery or a requeue) let a request
    /// to the provider leave, so the work may be done already (`markDeliveryStarted`).
    public let mayHaveDelivered: Bool
}

/// A task as `task.create` stores it.
public struct NewTask: Sendable {
    public var id: String
    public var title: String
    public var description: String?
    public var dueAt: Date?
    public var assignee: String?
    public var labels: [String]

    public init(id: String, title: String, description: String?, dueAt: Date?, assignee: String?, labels: [String]) {
        self.id = id
        self.title = title
        self.description = description
        self.dueAt = dueAt
        self.assignee = assignee
        self.labels = labels
    }
}

/// The executors' side of the jobs table: claiming runnable jobs under a lease and
/// recording each attempt's outcome with its audit row in one statement, so a state
/// change and its audit row commit together.
public struct ExecutionStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let runnable = "('approved', 'queued')"

    /// The body of a recursive CTE `ready(workspace_id)`: the distinct workspaces with
    /// runnable jobs, in id order, and a NULL row at the end. A loose index scan: one
    /// probe of jobs_runnable_by_workspace per workspace, whatever their backlogs.
    static let workspacesWithRunnableJobs = """
        (SELECT workspace_id FROM jobs WHERE status IN \(runnable) ORDER BY workspace_id LIMIT 1)
                UNION ALL
                SELECT (
                    SELECT jobs.workspace_id FROM jobs
                    WHERE jobs.status IN \(runnable) AND jobs.workspace_id > ready.workspace_id
                    ORDER BY jobs.workspace_id LIMIT 1)
                FROM ready WHERE ready.workspace_id IS NOT NULL
        """

    /// What one claim took, and what the executor needs for the next.
    public struct ClaimRound: Sendable {
        public var claims: [ExecutionClaim]
        /// Where the next claim's round-robin starts: after this workspace (see `claim`).
        public var nextCursor: String?
        /// Workspaces with due jobs that were not started because they already run
        /// `perWorkspaceLimit` executions.
        public var workspacesAtLimit: [String]
    }

    /// Claims up to `limit` jobs that are due, or whose lease ran out, for
    /// `leaseSeconds`. `SKIP LOCKED` lets every replica claim at once without two of
    /// them getting one job.
    public func claim(limit: Int, leaseSeconds: Int, executor: String) async throws -> [ExecutionClaim] {
        try await claim(limit: limit, leaseSeconds: leaseSeconds, executor: executor, perWorkspaceLimit: nil, after: "").claims
    }

    /// Claims up to `limit` jobs for `leaseSeconds`: first jobs whose lease ran out (their
    /// executor died), then due jobs fairly (docs/operations.md "Scheduling order"):
    /// - across workspaces, round-robin: every workspace with due jobs gets its first
    ///   turn before any gets a second, and within a turn workspaces come in id order
    ///   starting after `cursor` (the previous claim's `nextCursor`), so a deep backlog
    ///   delays another workspace's job by at most one turn;
    /// - within a workspace, approved jobs (a person decided them) before automatic
    ///   ones, each kind in the order it became due (a retry's due time is its backoff);
    /// - a workspace already running `perWorkspaceLimit` jobs (nil: no limit), leased on
    ///   any replica, gets none; one running fewer gets at most the difference. Claims of
    ///   replicas that run at the same moment do not see each other's: together they may
    ///   pass the limit by what each took (docs/operations.md).
    /// Cost: one index probe per workspace with runnable jobs, plus the few rows each
    /// may take, whatever the backlog's depth (bench/RESULTS.md "Fair claims").
    /// Candidates are ranked before they are locked, and locked in rank order with
    /// `SKIP LOCKED`: a job another replica is claiming is passed over for the next.
    public func claim(limit: Int, leaseSeconds: Int, executor: String, perWorkspaceLimit: Int?, after cursor: String)
        async throws -> ClaimRound
    {
        let statement = Self.claimStatement(
            limit: limit, leaseSeconds: leaseSeconds, executor: executor, perWorkspaceLimit: perWorkspaceLimit, after: cursor)
        let rows = try await client.query(statement, logger: logger)
        var round = ClaimRound(claims: [], nextCursor: nil, workspacesAtLimit: [])
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let count = columns.count
            round.nextCursor = try columns[count - 2].decode(String?.self)
            round.workspacesAtLimit = try columns[count - 1].decode([String].self)
            guard columns[0].bytes != nil else { continue }
            let job = try JobStore.record(row)
            let token = try columns[count - 6].decode(String.self)
            let previous = try columns[count - 5].decode(String.self)
            let mayHaveDelivered = try columns[count - 4].decode(Bool.self)
            let approved = try columns[count - 3].decode(String?.self)
            round.claims.append(
                ExecutionClaim(
                    job: job, leaseToken: token, approvedPayloadHash: approved, leaseRecovered: previous == "running",
                    mayHaveDelivered: mayHaveDelivered))
        }
        return round
    }

    /// `claim`'s statement (tests read its plan).
    static func claimStatement(limit: Int, leaseSeconds: Int, executor: String, perWorkspaceLimit: Int?, after cursor: String)
        -> PostgresQuery
    {
        let event = AuditEvent(
            workspaceID: "", actor: AuditActor(kind: .system, id: executor), action: "job.execution_started",
            targetType: "job")
        return """
            WITH RECURSIVE lapsed AS (
                SELECT id AS candidate_id, status AS previous_status, NULL::text AS turn_workspace, 0::bigint AS turn,
                    false AS wrapped
                FROM jobs
                WHERE status = 'running' AND lease_expires_at < now()
                ORDER BY lease_expires_at LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            ), ready(workspace_id) AS (
                \(unescaped: Self.workspacesWithRunnableJobs)
            ), allowance AS (
                SELECT workspace_id, greatest(0, least(\(limit), \(perWorkspaceLimit)::int8 - running)) AS takes,
                    running >= \(perWorkspaceLimit)::int8 AS at_limit
                FROM (
                    SELECT workspace_id,
                        CASE WHEN \(perWorkspaceLimit)::int8 IS NULL THEN 0 ELSE (
                            SELECT count(*) FROM jobs WHERE jobs.workspace_id = ready.workspace_id AND jobs.status = 'running')
                        END AS running
                    FROM ready WHERE workspace_id IS NOT NULL
                ) counted
            ), ranked AS (
                -- LIMIT the claim's limit (a value the planner knows), not `takes` (one it
                -- cannot): a LIMIT it cannot estimate counts as a tenth of the backlog, and at
                -- a million rows that cost estimate switched JIT compilation on (0.15–0.8 s a claim).
                SELECT pick.id, allowance.workspace_id, allowance.takes,
                    row_number() OVER (PARTITION BY allowance.workspace_id ORDER BY pick.automatic, pick.next_attempt_at) AS turn
                FROM allowance, LATERAL (
                    (SELECT id, false AS automatic, next_attempt_at FROM jobs
                     WHERE jobs.workspace_id = allowance.workspace_id AND status = 'approved' AND next_attempt_at <= now()
                     ORDER BY next_attempt_at LIMIT \(limit))
                    UNION ALL
                    (SELECT id, true AS automatic, next_attempt_at FROM jobs
                     WHERE jobs.workspace_id = allowance.workspace_id AND status = 'queued' AND next_attempt_at <= now()
                     ORDER BY next_attempt_at LIMIT \(limit))
                    LIMIT \(limit)
                ) pick
                WHERE allowance.takes > 0
            ), due AS (
                -- Ranked first, then locked in rank order (the Sort runs below LockRows):
                -- a row another claim holds is skipped, and the next in rank takes its place.
                SELECT jobs.id AS candidate_id, jobs.status AS previous_status, ranked.workspace_id AS turn_workspace, ranked.turn,
                    ranked.workspace_id <= \(cursor) AS wrapped
                FROM ranked JOIN jobs ON jobs.id = ranked.id
                -- Also as an array, which the planner sees is small: a join alone was
                -- planned as a hash join over a sequential scan of the whole table.
                WHERE jobs.id = ANY(ARRAY(SELECT id FROM ranked WHERE turn <= takes)) AND ranked.turn <= ranked.takes
                  AND jobs.status IN \(unescaped: Self.runnable) AND jobs.next_attempt_at <= now()
                ORDER BY ranked.turn, ranked.workspace_id <= \(cursor), ranked.workspace_id
                LIMIT \(limit)
                FOR UPDATE OF jobs SKIP LOCKED
            ), candidate AS (
                -- Two scans that each stop after `limit` rows of their index; one OR'ed
                -- condition made Postgres read and sort the whole backlog.
                (SELECT * FROM lapsed) UNION ALL (SELECT * FROM due) LIMIT \(limit)
            ), claimed AS (
                UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_token = gen_random_uuid()::text,
                    lease_expires_at = now() + make_interval(secs => \(leaseSeconds)), updated_at = now()
                FROM candidate WHERE jobs.id = candidate.candidate_id
                RETURNING \(unescaped: JobStore.columns), lease_token, previous_status,
                    delivery_started_at IS NOT NULL AS may_have_delivered,
                    jsonb_build_object('attempt', attempts, 'lease_recovered', previous_status = 'running') AS details
            ), audit AS (
                \(auditFrom: "claimed", targetIDColumn: "id", event: event, workspaceColumn: "workspace_id", detailsColumn: "details")
            ), round AS (
                SELECT
                    (SELECT turn_workspace FROM candidate WHERE turn_workspace IS NOT NULL
                     ORDER BY turn DESC, wrapped DESC, turn_workspace DESC LIMIT 1) AS next_cursor,
                    (SELECT coalesce(array_agg(workspace_id ORDER BY workspace_id), '{}') FROM allowance
                     WHERE at_limit AND EXISTS (
                        SELECT 1 FROM jobs WHERE jobs.workspace_id = allowance.workspace_id
                          AND jobs.status IN \(unescaped: Self.runnable) AND jobs.next_attempt_at <= now())
                    ) AS at_limit
            )
            -- One row per claimed job, or one row of NULLs if none: the round's facts ride on each.
            SELECT \(unescaped: JobStore.columnNames), lease_token, previous_status, may_have_delivered,
                (SELECT payload_hash FROM approvals WHERE approvals.job_id = claimed.id AND approvals.status = 'approved'),
                round.next_cursor, round.at_limit
            FROM round LEFT JOIN claimed ON true
            """
    }

    /// Commits, before an attempt sends anything to the provider, that the job's work may
    /// be done from now on: every later run (retry, lease recovery, requeue) asks the
    /// provider first. Throws `leaseLost` if `claim` no longer holds the job: then nothing
    /// may be sent.
    public func markDeliveryStarted(_ claim: ExecutionClaim) async throws {
        let rows = try await client.query(
            """
            UPDATE jobs SET delivery_started_at = coalesce(delivery_started_at, now())
            WHERE id = \(claim.job.id) AND status = 'running' AND lease_token = \(claim.leaseToken)
            RETURNING 1
            """, logger: logger)
        for try await _ in rows { return }
        throw ExecutionStoreError.leaseLost
    }

    /// A dead job whose status_code is this could not be checked for an earlier delivery;
    /// only a requeue that confirms a resend may run it again.
    public static let deliveryUnknownCode = RequeueDeadLetter.deliveryUnknownCode

    /// Puts a dead job back in line with a fresh set of attempts (its last error stays
    /// until the next attempt). Nil if the workspace has no dead job with that id, or if
    /// the job's delivery is unknown (`deliveryUnknownCode`) and `confirmResend` is false.
    /// Whether an earlier attempt may have delivered is kept, so the next run checks
    /// first; a confirmed resend clears it, and the next run sends without checking.
    public func requeue(workspaceID: String, jobID: String, confirmResend: Bool = false, actor: AuditActor) async throws
        -> JobRecord?
    {
        let event = AuditEvent(
            workspaceID: workspaceID, actor: actor, action: "job.requeued", targetType: "job",
            details: confirmResend ? ["resend_confirmed": true] : [:])
        let rows = try await client.query(
            """
            WITH requeued AS (
                UPDATE jobs SET status = CASE WHEN expires_at IS NULL THEN 'queued' ELSE 'approved' END,
                    attempts = 0, next_attempt_at = now(), updated_at = now(),
                    delivery_started_at = CASE WHEN \(confirmResend) THEN NULL ELSE delivery_started_at END
                WHERE workspace_id = \(workspaceID) AND id = \(jobID) AND status = 'dead'
                  AND (\(confirmResend) OR status_code IS DISTINCT FROM \(Self.deliveryUnknownCode))
                RETURNING \(unescaped: JobStore.columns)
            ), audit AS (
                \(auditFrom: "requeued", targetIDColumn: "id", event: event)
            )
            SELECT \(unescaped: JobStore.columnNames) FROM requeued
            """, logger: logger)
        return try await JobStore.records(rows).first
    }

    /// Jobs that could run now: the executors' backlog.
    public func queueDepth() async throws -> Int {
        let rows = try await client.query(
            "SELECT count(*)::int FROM jobs WHERE status IN \(unescaped: Self.runnable) AND next_attempt_at <= now()",
            logger: logger)
        for try await (count) in rows.decode(Int.self) { return count }
        return 0
    }
}

public enum ExecutionStoreError: Error {
    /// The claim's lease ran out and another executor holds the job.
    case leaseLost
}
