import Approvals
import Foundation
import GateCore
import Logging
import PostgresNIO

/// A job as stored (SPEC §2 Job).
public struct JobRecord: Sendable, Equatable {
    public var id: String
    public var workspaceID: String
    public var action: String
    public var params: JSONValue
    public var payloadHash: String
    public var status: JobStatus
    public var idempotencyKey: String
    public var submittedByType: String
    public var submittedBy: String
    public var actsFor: String?
    public var callbackURL: String?
    public var requiredApprovals: Int
    public var expiresAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// Why the job is in its status (a rejection reason, "approval expired", …).
    public var statusReason: String?
    public var statusCode: String?
    /// Execution attempts so far, when the next may start, and the provider's answer.
    public var attempts: Int
    public var nextAttemptAt: Date
    public var result: JSONValue?
}

/// What a submission asks to store.
public struct NewJob: Sendable {
    public var workspaceID: String
    public var action: String
    public var params: JSONValue
    public var payloadHash: String
    public var status: JobStatus
    public var idempotencyKey: String
    public var submittedByType: String
    public var submittedBy: String
    public var actsFor: String?
    public var callbackURL: String?
    public var requiredApprovals: Int
    /// For gated jobs: seconds until the approval expires.
    public var approvalTimeoutSeconds: Int?

    public init(
        workspaceID: String, action: String, params: JSONValue, payloadHash: String, status: JobStatus,
        idempotencyKey: String, submittedByType: String, submittedBy: String, actsFor: String?, callbackURL: String?,
        requiredApprovals: Int, approvalTimeoutSeconds: Int?
    ) {
        self.workspaceID = workspaceID
        self.action = action
        self.params = params
        self.payloadHash = payloadHash
        self.status = status
        self.idempotencyKey = idempotencyKey
        self.submittedByType = submittedByType
        self.submittedBy = submittedBy
        self.actsFor = actsFor
        self.callbackURL = callbackURL
        self.requiredApprovals = requiredApprovals
        self.approvalTimeoutSeconds = approvalTimeoutSeconds
    }
}

public struct JobStore: Sendable {
    public enum InsertOutcome: Sendable, Equatable {
        /// Inserted now, with its audit row.
        case created(JobRecord)
        /// The workspace already has a job with this idempotency key (the durable backstop).
        case existing(JobRecord)
    }

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = """
        id, workspace_id, action, params::text, payload_hash, status, idempotency_key, submitted_by_type, submitted_by,
        acts_for, callback_url, required_approvals, expires_at, created_at, updated_at, status_reason, status_code,
        attempts, next_attempt_at, result::text
        """

    /// Inserts the job and its `job.submitted` audit row — and for a gated job its
    /// approval and `approval.requested` row — in one statement (one round trip,
    /// atomic), unless the workspace already has a job under the same key.
    /// `id` is the new job's (chosen by the caller, who may have promised it elsewhere,
    /// e.g. in the idempotency claim); with `.existing` it was not used.
    public func insert(_ job: NewJob, id: String = SortableID.make(prefix: "job"), actor: AuditActor) async throws -> InsertOutcome {
        let query = Self.insertQuery(job, actor: actor, id: id, approvalID: SortableID.make(prefix: "apr"))
        var created: JobRecord?
        for try await row in try await client.execute(PreparedQuery<InsertStatement>(query), logger: logger) {
            created = try Self.record(row)
        }
        if let created { return .created(created) }
        guard let existing = try await find(workspaceID: job.workspaceID, idempotencyKey: job.idempotencyKey) else {
            throw JobStoreError.conflictWithoutRow
        }
        return .existing(existing)
    }

    enum InsertStatement: PreparedShape {
        static let name = "gateapi_job_insert"
        static let sql = JobStore.insertQuery(
            NewJob(
                workspaceID: "", action: "", params: .null, payloadHash: "", status: .queued, idempotencyKey: "",
                submittedByType: "", submittedBy: "", actsFor: nil, callbackURL: nil, requiredApprovals: 0,
                approvalTimeoutSeconds: nil),
            actor: AuditActor(kind: .system, id: nil), id: "", approvalID: ""
        ).sql
    }

    /// One statement, one round trip: the job, its approval if gated, and both audit rows.
    static func insertQuery(_ job: NewJob, actor: AuditActor, id: String, approvalID: String) -> PostgresQuery {
        let requested = AuditEvent(
            workspaceID: job.workspaceID, actor: actor, action: "approval.requested", targetType: "approval",
            details: ["job_id": .string(id), "required_approvals": .integer(job.requiredApprovals)])
        let audit = AuditEvent(
            workspaceID: job.workspaceID, actor: actor, action: "job.submitted", targetType: "job",
            details: [
                "action": .string(job.action), "payload_hash": .string(job.payloadHash),
                "status": .string(job.status.rawValue), "required_approvals": .integer(job.requiredApprovals),
            ])
        return """
            WITH job AS (
                INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                                  submitted_by, acts_for, callback_url, required_approvals, expires_at)
                VALUES (\(id), \(job.workspaceID), \(job.action), \(job.params.jsonText)::jsonb, \(job.payloadHash),
                        \(job.status.rawValue), \(job.idempotencyKey), \(job.submittedByType), \(job.submittedBy),
                        \(job.actsFor)::text, \(job.callbackURL)::text, \(job.requiredApprovals)::int8,
                        now() + make_interval(secs => \(job.approvalTimeoutSeconds)::int8))
                ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
                RETURNING \(unescaped: Self.columns)
            ), audit AS (
                \(auditFrom: "job", targetIDColumn: "id", event: audit)
            ), approval AS (
                INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at)
                SELECT \(approvalID), workspace_id, id, action, 'pending', payload_hash, required_approvals, expires_at
                FROM job WHERE status = 'pending_approval'
                RETURNING id
            ), approval_audit AS (
                \(auditFrom: "approval", targetIDColumn: "id", event: requested)
            )
            SELECT \(unescaped: Self.columnNames) FROM job
            """
    }

    public func find(workspaceID: String, id: String) async throws -> JobRecord? {
        var found: JobRecord?
        for try await row in try await client.execute(
            PreparedQuery<FindStatement>(Self.findQuery(workspaceID: workspaceID, id: id)), logger: logger)
        {
            found = try Self.record(row)
        }
        return found
    }

    enum FindStatement: PreparedShape {
        static let name = "gateapi_job_find"
        static let sql = JobStore.findQuery(workspaceID: "", id: "").sql
    }

    static func findQuery(workspaceID: String, id: String) -> PostgresQuery {
        "SELECT \(unescaped: Self.columns) FROM jobs WHERE workspace_id = \(workspaceID) AND id = \(id)"
    }

    public func find(workspaceID: String, idempotencyKey: String) async throws -> JobRecord? {
        try await Self.records(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM jobs WHERE workspace_id = \(workspaceID) AND idempotency_key = \(idempotencyKey)",
                logger: logger)
        ).first
    }

    /// Newest first; `before` is the last id of the previous page.
    public func list(workspaceID: String, status: JobStatus?, action: String?, before: String?, limit: Int) async throws
        -> [JobRecord]
    {
        try await Self.records(
            client.query(
                """
                SELECT \(unescaped: Self.columns) FROM jobs
                WHERE workspace_id = \(workspaceID)
                  AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                  AND (\(action)::text IS NULL OR action = \(action))
                  AND (\(before)::text IS NULL OR id < \(before))
                ORDER BY id DESC LIMIT \(limit)
                """, logger: logger))
    }

    /// Spelled exactly as the predicates of the partial indexes `jobs_terminal_updated` and
    /// `jobs_history`, which the purge's statements need.
    static let terminalStatuses = "('succeeded', 'failed', 'rejected', 'expired', 'cancelled')"

    /// Deletes terminal jobs (their approvals and votes go with them) last changed
    /// more than `ttlSeconds` ago, then those beyond the newest `maxPerWorkspace` of
    /// each workspace, `batch` rows per statement. Returns how many went.
    public func purgeHistory(ttlSeconds: Int, maxPerWorkspace: Int, batch: Int) async throws -> Int {
        let byAge: PostgresQuery = """
            WITH gone AS (
                DELETE FROM jobs WHERE id IN (
                    SELECT id FROM jobs WHERE status IN \(unescaped: Self.terminalStatuses)
                      AND updated_at < now() - make_interval(secs => \(ttlSeconds))
                    LIMIT \(batch))
                RETURNING 1)
            SELECT count(*)::int FROM gone
            """
        var total = 0
        // Each statement deletes up to `batch` rows; it runs again until it deletes fewer.
        for statement in [byAge, Self.historyCapStatement(maxPerWorkspace: maxPerWorkspace, batch: batch)] {
            while true {
                let rows = try await client.query(statement, logger: logger)
                var count = 0
                for try await (n) in rows.decode(Int.self) { count = n }
                total += count
                if count < batch { break }
            }
        }
        return total
    }

    /// Deletes up to `batch` terminal jobs beyond the newest `maxPerWorkspace` of their
    /// workspace; returns how many. It ranks every workspace's history, every pass, in
    /// every replica: in the order of the `jobs_history` index (migration 0011), which an
    /// index-only scan reads without touching the jobs.
    static func historyCapStatement(maxPerWorkspace: Int, batch: Int) -> PostgresQuery {
        """
        WITH ranked AS (
            SELECT id, row_number() OVER (PARTITION BY workspace_id ORDER BY id DESC) AS position
            FROM jobs WHERE status IN \(unescaped: Self.terminalStatuses)
        ), gone AS (
            DELETE FROM jobs WHERE id IN (SELECT id FROM ranked WHERE position > \(maxPerWorkspace) LIMIT \(batch))
            RETURNING 1)
        SELECT count(*)::int FROM gone
        """
    }

    /// The column list without the `::text` casts, for selecting from a CTE.
    static let columnNames = columns.replacingOccurrences(of: "::text", with: "")

    static func records(_ rows: PostgresRowSequence) async throws -> [JobRecord] {
        var records: [JobRecord] = []
        for try await row in rows { records.append(try record(row)) }
        return records
    }

    /// Decodes the leading `columns` of `row`; a query may select more after them.
    static func record(_ row: PostgresRow) throws -> JobRecord {
        let (
            id, workspaceID, action, params, payloadHash, status, idempotencyKey, submittedByType, submittedBy,
            actsFor, callbackURL, requiredApprovals, expiresAt, createdAt, updatedAt, statusReason, statusCode,
            attempts, nextAttemptAt, result
        ) = try row.decode(
            (String, String, String, String, String, String, String, String, String, String?, String?, Int, Date?,
             Date, Date, String?, String?, Int, Date, String?).self)
        return JobRecord(
            id: id, workspaceID: workspaceID, action: action,
            params: (try? JSONValue(parsing: params)) ?? .null,
            payloadHash: payloadHash, status: JobStatus(rawValue: status) ?? .failed,
            idempotencyKey: idempotencyKey, submittedByType: submittedByType, submittedBy: submittedBy,
            actsFor: actsFor, callbackURL: callbackURL, requiredApprovals: requiredApprovals,
            expiresAt: expiresAt, createdAt: createdAt, updatedAt: updatedAt, statusReason: statusReason,
            statusCode: statusCode, attempts: attempts, nextAttemptAt: nextAttemptAt,
            result: result.flatMap { try? JSONValue(parsing: $0) })
    }
}

public enum JobStoreError: Error {
    /// ON CONFLICT skipped the insert but no row holds the key: it was deleted in between.
    case conflictWithoutRow
}
