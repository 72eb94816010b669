import Approvals
import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

public struct JobStore: Sendable {
    public typealias InsertOutcome = JobInsertOutcome

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
    /// atomic), unless the workspace already has a job under the same key or a live
    /// `idempotency_records` row for it (its job was purged).
    /// `insert.id` is the new job's (chosen by the caller, who may have promised it
    /// elsewhere, e.g. in the idempotency claim); with `.existing` it was not used.
    /// For one submission alone: a statement of its own is cheaper than a batch of one,
    /// whose joins and sort it does not need (bench/HISTORY.md "Twelfth round").
    /// A statement that met the history purge freeing its key is written again
    /// (`TransactionConflict`, migration 0017).
    public func insert(_ insert: JobInsert) async throws -> InsertOutcome {
        if !insert.files.bytes.isEmpty { return try await insertWithFiles(insert) }
        let query = Self.insertQuery(insert.job, actor: insert.actor, id: insert.id, approvalID: insert.approvalID)
        let created = try await TransactionConflict.retrying {
            var created: JobRecord?
            for try await row in try await client.execute(PreparedQuery<InsertStatement>(query), logger: logger) {
                created = try Self.record(row)
            }
            return created
        }
        if let created { return .created(created) }
        return try await existing(insert.job)
    }

    /// Several submissions in one statement: one round trip and one commit for all of
    /// them (`JobInsertBatcher`), all written or none. Each job comes back `.created`, or
    /// `.existing` when its workspace already had a job under its key — also when an
    /// earlier insert of the same batch took the key — or `.purged`. Only that lookup can
    /// fail alone. A batch that Postgres aborted as a deadlock, or because the history purge
    /// freed one of its keys while it ran (migration 0017), is written again (`TransactionConflict`).
    public func insert(_ inserts: [JobInsert]) async throws -> [Result<InsertOutcome, any Error>] {
        if inserts.count == 1 { return [.success(try await insert(inserts[0]))] }
        // Submissions with files are written alone (`insertWithFiles`); the batcher's
        // callers send them past it, and this keeps their bytes if one gets here.
        if inserts.contains(where: { !$0.files.bytes.isEmpty }) {
            var outcomes: [Result<InsertOutcome, any Error>] = []
            for one in inserts {
                do { outcomes.append(.success(try await insert(one))) } catch { outcomes.append(.failure(error)) }
            }
            return outcomes
        }
        let statement = BatchInsertStatement(input: Self.batchInput(inserts))
        let created = try await TransactionConflict.retrying {
            var created: [String: JobRecord] = [:]
            for try await row in try await client.execute(statement, logger: logger) {
                let record = try Self.record(row)
                created[record.id] = record
            }
            return created
        }
        var outcomes: [Result<InsertOutcome, any Error>] = []
        for insert in inserts {
            if let record = created[insert.id] {
                outcomes.append(.success(.created(record)))
                continue
            }
            do {
                outcomes.append(.success(try await existing(insert.job)))
            } catch {
                outcomes.append(.failure(error))
            }
        }
        return outcomes
    }

    /// What holds `job`'s key, which an insert just found taken: a job, or the record
    /// the history purge left of one.
    func existing(_ job: NewJob) async throws -> InsertOutcome {
        if let existing = try await find(workspaceID: job.workspaceID, idempotencyKey: job.idempotencyKey) {
            return .existing(existing)
        }
        if let record = try await idempotencyRecord(workspaceID: job.workspaceID, idempotencyKey: job.idempotencyKey) {
            return .purged(record)
        }
        throw JobStoreError.conflictWithoutRow
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

    /// One statement, one round trip: the job, its approval if gated, and both audit rows
    /// (in one INSERT, so `job.submitted` is written before `approval.requested`). A key
    /// with a live idempotency record inserts nothing (one index probe of a table that
    /// holds only keys purged early).
    static func insertQuery(_ job: NewJob, actor: AuditActor, id: String, approvalID: String) -> PostgresQuery {
        let requested = AuditEvent(
            workspaceID: job.workspaceID, actor: actor, action: "approval.requested", targetType: "approval",
            details: requestedDetails(job, id: id))
        let submitted = AuditEvent(
            workspaceID: job.workspaceID, actor: actor, action: "job.submitted", targetType: "job",
            details: submittedDetails(job))
        return """
            WITH job AS (
                INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                                  submitted_by, acts_for, callback_url, required_approvals, expires_at)
                SELECT \(id), \(job.workspaceID), \(job.action), \(job.params.jsonText)::jsonb, \(job.payloadHash),
                       \(job.status.rawValue), \(job.idempotencyKey), \(job.submittedByType), \(job.submittedBy),
                       \(job.actsFor)::text, \(job.callbackURL)::text, \(job.requiredApprovals)::int8,
                       now() + make_interval(secs => \(job.approvalTimeoutSeconds)::int8)
                WHERE NOT EXISTS (
                    SELECT FROM idempotency_records
                    WHERE workspace_id = \(job.workspaceID) AND idempotency_key = \(job.idempotencyKey) AND expires_at > now())
                ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
                RETURNING \(unescaped: Self.columns)
            ), approval AS (
                INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at,
                                       approver_rules)
                SELECT \(approvalID), workspace_id, id, action, 'pending', payload_hash, required_approvals, expires_at,
                       \(Self.approverRules(job))::text::jsonb
                FROM job WHERE status = 'pending_approval'
                RETURNING id, workspace_id, job_id
            ), notice AS (
                \(unescaped: Self.requestedNotice)
            ), audit AS (
                \(auditFrom: [
                    AuditFrom(source: "job", targetIDColumn: "id", event: submitted),
                    AuditFrom(source: "approval", targetIDColumn: "id", event: requested),
                ])
            )
            SELECT \(unescaped: Self.columnNames) FROM job
            """
    }

    /// A new approval's "requested" notice (issue 27; migration 0024), in the statement
    /// that creates it, when anybody is to hear of it: a reviewer of the workspace who
    /// takes notifications, or the job's callback. A workspace without a directory pays
    /// one index probe, not a row (bench/RESULTS.md "Approval notices").
    static let requestedNotice = """
        INSERT INTO approval_notices (workspace_id, approval_id, kind)
                SELECT approval.workspace_id, approval.id, 'requested' FROM approval JOIN job ON job.id = approval.job_id
                WHERE job.callback_url IS NOT NULL
                   OR EXISTS (SELECT FROM reviewers AS r WHERE r.workspace_id = approval.workspace_id AND r.notify)
        """

    /// The details of a submission's audit rows (SPEC §4 Audit), alone or in a batch.
    static func submittedDetails(_ job: NewJob) -> [String: JSONValue] {
        [
            "action": .string(job.action), "payload_hash": .string(job.payloadHash), "status": .string(job.status.rawValue),
            "required_approvals": .integer(job.requiredApprovals),
        ]
    }

    static func requestedDetails(_ job: NewJob, id: String) -> [String: JSONValue] {
        var details: [String: JSONValue] = ["job_id": .string(id), "required_approvals": .integer(job.requiredApprovals)]
        if !job.approverRules.isEmpty { details["approvers"] = ApproverRulesJSON.json(job.approverRules) }
        return details
    }

    /// The approval's group rules as stored: NULL when there are none. Bound as text
    /// (`::text::jsonb`): a prepared statement first run with NULL would otherwise type
    /// the parameter jsonb, whose binary form a text binding is not.
    static func approverRules(_ job: NewJob) -> String? {
        job.approverRules.isEmpty ? nil : ApproverRulesJSON.json(job.approverRules).jsonText
    }

    /// The jobs, approvals and audit rows of a batch, from one jsonb array (a record per
    /// job, `batchInput`): a single parameter whatever the batch's size, so the statement
    /// is prepared once. Audit rows are inserted in the batch's order, each job's
    /// `job.submitted` before its `approval.requested`.
    /// Jobs are inserted in the order of their (workspace, idempotency key), not the
    /// batch's: each insert holds its key until the commit, so two batches that take
    /// shared keys in different orders (clients retrying a set of keys at once)
    /// deadlocked; in one order the second waits for the first. Of two jobs of a batch
    /// under one key, the first in the batch still wins.
    struct BatchInsertStatement: PostgresPreparedStatement {
        typealias Row = PostgresRow
        static let name = "gateapi_job_insert_batch"
        static let sql = """
            WITH input AS (
                SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(
                    ord int, id text, approval_id text, workspace_id text, action text, params jsonb, payload_hash text,
                    status text, idempotency_key text, submitted_by_type text, submitted_by text, acts_for text,
                    callback_url text, required_approvals int8, approval_timeout int8, actor_type text, actor_id text,
                    actor_ip text, request_id text, submitted_details jsonb, requested_details jsonb, approver_rules jsonb)
            ), job AS (
                INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                                  submitted_by, acts_for, callback_url, required_approvals, expires_at)
                SELECT id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type,
                       submitted_by, acts_for, callback_url, required_approvals, now() + make_interval(secs => approval_timeout)
                FROM input
                WHERE NOT EXISTS (
                    SELECT FROM idempotency_records AS r
                    WHERE r.workspace_id = input.workspace_id AND r.idempotency_key = input.idempotency_key
                      AND r.expires_at > now())
                ORDER BY workspace_id, idempotency_key, ord
                ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
                RETURNING \(columns)
            ), approval AS (
                INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at,
                                       approver_rules)
                SELECT input.approval_id, job.workspace_id, job.id, job.action, 'pending', job.payload_hash,
                       job.required_approvals, job.expires_at, input.approver_rules
                FROM job JOIN input ON input.id = job.id WHERE job.status = 'pending_approval'
                RETURNING id, workspace_id, job_id
            ), notice AS (
                \(requestedNotice)
            ), audit AS (
                INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome,
                                          request_id, details)
                SELECT workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, 'success', request_id, details
                FROM (
                    SELECT input.ord, 0 AS step, input.workspace_id, input.actor_type, input.actor_id, input.actor_ip,
                           'job.submitted' AS action, 'job' AS target_type, job.id AS target_id, input.request_id,
                           input.submitted_details AS details
                    FROM job JOIN input ON input.id = job.id
                    UNION ALL
                    SELECT input.ord, 1, input.workspace_id, input.actor_type, input.actor_id, input.actor_ip,
                           'approval.requested', 'approval', approval.id, input.request_id, input.requested_details
                    FROM approval JOIN input ON input.id = approval.job_id
                ) AS rows
                ORDER BY ord, step
            )
            SELECT \(columnNames) FROM job
            """

        let input: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(input)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }

    /// `BatchInsertStatement`'s parameter.
    static func batchInput(_ inserts: [JobInsert]) -> String {
        JSONValue.array(
            inserts.enumerated().map { ord, insert in
                let job = insert.job
                let actor = insert.actor
                return .object([
                    "ord": .integer(ord), "id": .string(insert.id), "approval_id": .string(insert.approvalID),
                    "workspace_id": .string(job.workspaceID), "action": .string(job.action), "params": job.params,
                    "payload_hash": .string(job.payloadHash), "status": .string(job.status.rawValue),
                    "idempotency_key": .string(job.idempotencyKey), "submitted_by_type": .string(job.submittedByType),
                    "submitted_by": .string(job.submittedBy), "acts_for": job.actsFor.map(JSONValue.string) ?? .null,
                    "callback_url": job.callbackURL.map(JSONValue.string) ?? .null,
                    "required_approvals": .integer(job.requiredApprovals),
                    "approval_timeout": job.approvalTimeoutSeconds.map(JSONValue.integer) ?? .null,
                    "actor_type": .string(actor.kind.rawValue), "actor_id": actor.id.map(JSONValue.string) ?? .null,
                    "actor_ip": actor.ip.map(JSONValue.string) ?? .null,
                    "request_id": actor.requestID.map(JSONValue.string) ?? .null,
                    "submitted_details": .object(submittedDetails(job)),
                    "requested_details": .object(requestedDetails(job, id: insert.id)),
                    "approver_rules": job.approverRules.isEmpty ? .null : ApproverRulesJSON.json(job.approverRules),
                ])
            }
        ).jsonText
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

    /// Several jobs in one statement (`JobLookupBatcher`): for each key, its job or nil.
    public func find(_ keys: [JobKey]) async throws -> [JobRecord?] {
        if keys.count == 1 { return [try await find(workspaceID: keys[0].workspaceID, id: keys[0].id)] }
        var found: [String: JobRecord] = [:]
        let statement = BatchFindStatement(ids: keys.map(\.id), workspaceIDs: keys.map(\.workspaceID))
        for try await row in try await client.execute(statement, logger: logger) {
            let record = try Self.record(row)
            found[record.id] = record
        }
        // A job of another workspace under a requested id is not that key's job.
        return keys.map { key in found[key.id].flatMap { $0.workspaceID == key.workspaceID ? $0 : nil } }
    }

    struct BatchFindStatement: PostgresPreparedStatement {
        typealias Row = PostgresRow
        static let name = "gateapi_job_find_batch"
        static let sql = "SELECT \(columns) FROM jobs WHERE id = ANY($1::text[]) AND workspace_id = ANY($2::text[])"

        let ids: [String]
        let workspaceIDs: [String]

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(ids)
            bindings.append(workspaceIDs)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }

    public func find(workspaceID: String, idempotencyKey: String) async throws -> JobRecord? {
        try await Self.records(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM jobs WHERE workspace_id = \(workspaceID) AND idempotency_key = \(idempotencyKey)",
                logger: logger)
        ).first
    }

    /// The record the history purge left of `idempotencyKey`'s job, while the key is live.
    public func idempotencyRecord(workspaceID: String, idempotencyKey: String) async throws -> IdempotencyRecord? {
        try await IdempotencyRecord.find(workspaceID: workspaceID, idempotencyKey: idempotencyKey, client: client, logger: logger)
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
