import Foundation
import Gate
import GateCore
import PostgresNIO

extension ExecutionStore {
    /// The outcome of one attempt.
    public enum Outcome: Sendable {
        /// Done; `result` is what the provider answered. With `task`, the task is
        /// created in the same statement.
        case succeeded(result: JSONValue, task: NewTask?)
        /// Will not work however often it is tried.
        case failed(code: String, message: String)
        /// Try again at `after` from now.
        case retry(code: String, message: String, after: Duration)
        /// Out of attempts: a dead letter, until an admin requeues it.
        case dead(code: String, message: String)
    }

    /// What recording an outcome writes: the job's new state, its audit row, its task.
    struct OutcomeRow {
        var status: String
        var code: String?
        var reason: String?
        var result: JSONValue?
        var delaySeconds = 0.0
        var task: NewTask?
        var auditAction: String
        var auditOutcome: AuditEvent.Outcome
        var details: [String: JSONValue]

        init(_ outcome: Outcome, for claim: ExecutionClaim) {
            details = ["attempt": .integer(claim.attempt)]
            auditOutcome = .failure
            switch outcome {
            case .succeeded(let value, let newTask):
                (status, auditAction, auditOutcome, result, task) = ("succeeded", "job.execution_succeeded", .success, value, newTask)
                details["result"] = value
            case .failed(let failureCode, let message):
                (status, auditAction, code, reason) = ("failed", "job.execution_failed", failureCode, message)
                details["retry"] = false
            case .retry(let failureCode, let message, let after):
                // Back to where it is runnable from: approved if it was gated, else queued.
                (status, auditAction, code, reason, delaySeconds) = (
                    claim.job.expiresAt == nil ? "queued" : "approved", "job.execution_failed", failureCode, message, after.seconds
                )
                details["retry"] = true
                details["retry_in_seconds"] = .number(delaySeconds)
            case .dead(let failureCode, let message):
                (status, auditAction, code, reason) = ("dead", "job.dead_lettered", failureCode, message)
            }
            if let code { details["code"] = .string(code) }
            if let reason { details["message"] = .string(reason) }
        }
    }

    /// Records `outcome` if `claim` still holds the lease; false if it lost it (the
    /// lease ran out and another executor took the job).
    public func record(_ outcome: Outcome, for claim: ExecutionClaim, executor: String) async throws -> Bool {
        let job = claim.job
        let row = OutcomeRow(outcome, for: claim)
        let task = row.task
        let event = AuditEvent(
            workspaceID: job.workspaceID, actor: AuditActor(kind: .system, id: executor), action: row.auditAction,
            targetType: "job", outcome: row.auditOutcome, details: row.details)
        let rows = try await client.query(
            """
            WITH done AS (
                UPDATE jobs SET status = \(row.status), status_code = \(row.code), status_reason = \(row.reason),
                    result = \(row.result?.jsonText)::jsonb, lease_token = NULL, lease_expires_at = NULL,
                    next_attempt_at = now() + make_interval(secs => \(row.delaySeconds)), updated_at = now()
                WHERE id = \(job.id) AND status = 'running' AND lease_token = \(claim.leaseToken)
                RETURNING id, workspace_id, submitted_by_type || ':' || submitted_by AS created_by
            ), task AS (
                INSERT INTO tasks (id, workspace_id, job_id, title, description, due_at, assignee, labels, created_by)
                SELECT \(task?.id), workspace_id, id, \(task?.title), \(task?.description), \(task?.dueAt), \(task?.assignee),
                    \(task?.labels ?? []), created_by
                FROM done WHERE \(task?.id)::text IS NOT NULL
                RETURNING id
            ), audit AS (
                \(auditFrom: "done", targetIDColumn: "id", event: event)
            )
            SELECT count(*)::int FROM done
            """, logger: logger)
        for try await (count) in rows.decode(Int.self) { return count == 1 }
        return false
    }

    /// Records several outcomes in one statement (what `record` does for each): one
    /// round trip and one commit for the batch. For each claim, in order, whether it
    /// still held its lease (false: another executor took the job, and nothing of that
    /// outcome was written).
    public func record(_ outcomes: [(Outcome, ExecutionClaim)], executor: String) async throws -> [Bool] {
        if outcomes.count == 1 { return [try await record(outcomes[0].0, for: outcomes[0].1, executor: executor)] }
        var recorded: Set<String> = []
        let statement = BatchRecordStatement(input: Self.batchInput(outcomes), executor: executor)
        for try await row in try await client.execute(statement, logger: logger) { recorded.insert(try row.decode(String.self)) }
        return outcomes.map { recorded.contains($0.1.job.id) }
    }

    /// `BatchRecordStatement`'s parameter: one JSON object per outcome.
    static func batchInput(_ outcomes: [(Outcome, ExecutionClaim)]) -> String {
        JSONValue.array(
            outcomes.map { outcome, claim in
                let row = OutcomeRow(outcome, for: claim)
                var object: [String: JSONValue] = [
                    "id": .string(claim.job.id), "lease_token": .string(claim.leaseToken), "status": .string(row.status),
                    "status_code": row.code.map(JSONValue.string) ?? .null,
                    "status_reason": row.reason.map(JSONValue.string) ?? .null, "result": row.result ?? .null,
                    "delay": .number(row.delaySeconds), "audit_action": .string(row.auditAction),
                    "audit_outcome": .string(row.auditOutcome.rawValue), "details": .object(row.details),
                ]
                if let task = row.task {
                    object["task_id"] = .string(task.id)
                    object["task_title"] = .string(task.title)
                    object["task_description"] = task.description.map(JSONValue.string) ?? .null
                    // Seconds since the epoch: a double keeps the microseconds Postgres stores.
                    object["task_due_epoch"] = task.dueAt.map { .number($0.timeIntervalSince1970) } ?? .null
                    object["task_assignee"] = task.assignee.map(JSONValue.string) ?? .null
                    object["task_labels"] = .array(task.labels.map(JSONValue.string))
                }
                return .object(object)
            }
        ).jsonText
    }

    /// The batch of `record(_:executor:)`: a single parameter whatever the batch's size,
    /// so it is prepared once. Each job is leased to one executor, so two batches never
    /// update the same row; the audit rows are written in id order.
    struct BatchRecordStatement: PostgresPreparedStatement {
        typealias Row = PostgresRow
        static let name = "gateapi_execution_record_batch"
        static let sql = """
            WITH input AS (
                SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(
                    id text, lease_token text, status text, status_code text, status_reason text, result jsonb, delay float8,
                    audit_action text, audit_outcome text, details jsonb, task_id text, task_title text,
                    task_description text, task_due_epoch float8, task_assignee text, task_labels text[])
            ), done AS (
                UPDATE jobs SET status = input.status, status_code = input.status_code, status_reason = input.status_reason,
                    result = input.result, lease_token = NULL, lease_expires_at = NULL,
                    next_attempt_at = now() + make_interval(secs => input.delay), updated_at = now()
                FROM input
                -- By primary key, from an array of the ids. Not also by `status = 'running'`
                -- (as `record` is): that lets the planner scan the running jobs' partial
                -- index instead, which under load holds an entry for every job that ran
                -- since the last vacuum (bench/RESULTS.md "Executor throughput"). The lease
                -- token says as much: a claim sets it, and recording or a later claim
                -- replaces it, so only the running job's current claim holds it.
                WHERE jobs.id = ANY(ARRAY(SELECT id FROM input)) AND jobs.id = input.id
                  AND jobs.lease_token = input.lease_token
                RETURNING jobs.id, jobs.workspace_id, jobs.submitted_by_type || ':' || jobs.submitted_by AS created_by,
                    input.audit_action, input.audit_outcome, input.details, input.task_id, input.task_title,
                    input.task_description, input.task_due_epoch, input.task_assignee, input.task_labels
            ), task AS (
                INSERT INTO tasks (id, workspace_id, job_id, title, description, due_at, assignee, labels, created_by)
                SELECT task_id, workspace_id, id, task_title, task_description, to_timestamp(task_due_epoch), task_assignee,
                    coalesce(task_labels, '{}'), created_by
                FROM done WHERE task_id IS NOT NULL
                RETURNING id
            ), audit AS (
                INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome,
                                          request_id, details)
                SELECT workspace_id, 'system', $2::text, NULL, audit_action, 'job', id, audit_outcome, NULL, details
                FROM done ORDER BY id
            )
            SELECT id FROM done
            """

        let input: String
        let executor: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(input)
            bindings.append(executor)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
    }
}
