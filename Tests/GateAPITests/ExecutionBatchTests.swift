import Foundation
import Gate
import GateCore
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

/// Outcomes recorded in one statement (`ExecutionStore.record(_:executor:)`, what
/// `ExecutionOutcomeBatcher` sends): each writes what recording it alone writes.
@Suite struct ExecutionBatchTests {
    @Test func aBatchRecordsEachOutcomeWithItsTaskAndAuditRowUnlessItsLeaseIsLost() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            for n in 1...4 {
                let submitted = try await fixture.submit(client, key: "k\(n)", body: #"{"action":"task.create","params":{"title":"T\#(n)"}}"#)
                try #require(submitted.status == .created)
            }
            try await fixture.db.withClient { db in
                let store = ExecutionStore(client: db, logger: TestEnvironment.logger)
                let claims = try await store.claim(limit: 4, leaseSeconds: 60, executor: "test", perWorkspaceLimit: nil, after: "").claims
                    .sorted { $0.job.id < $1.job.id }
                try #require(claims.count == 4)
                let due = Date(timeIntervalSince1970: 1_900_000_000.123456)
                let stale = ExecutionClaim(
                    job: claims[3].job, leaseToken: "not-the-lease", approvedPayloadHash: nil, leaseRecovered: false,
                    mayHaveDelivered: false)
                let recorded = try await store.record(
                    [
                        (.succeeded(result: ["task_id": "tsk_a"], task: NewTask(
                            id: "tsk_a", title: "Call Ann", description: "about \"Q4\"", dueAt: due, assignee: "ann",
                            labels: ["sales", "ü"])), claims[0]),
                        (.succeeded(result: ["task_id": "tsk_b"], task: NewTask(
                            id: "tsk_b", title: "Call Bea", description: nil, dueAt: nil, assignee: nil, labels: [])), claims[1]),
                        (.retry(code: "timeout", message: "took too long", after: .seconds(90)), claims[2]),
                        (.succeeded(result: [:], task: nil), stale),
                    ], executor: "exec-1")
                #expect(recorded == [true, true, true, false])

                let rows = try await db.query(
                    """
                    SELECT id, status, coalesce(status_code, ''), next_attempt_at > now() + interval '80 seconds', lease_token IS NULL
                    FROM jobs WHERE action = 'task.create' ORDER BY id
                    """)
                var states: [String: (String, String, Bool, Bool)] = [:]
                for try await (id, status, code, later, released) in rows.decode((String, String, String, Bool, Bool).self) {
                    states[id] = (status, code, later, released)
                }
                #expect(states[claims[0].job.id]?.0 == "succeeded" && states[claims[1].job.id]?.0 == "succeeded")
                #expect(states[claims[2].job.id].map { $0.0 == "queued" && $0.1 == "timeout" && $0.2 && $0.3 } == true)
                // The lost lease wrote nothing: still running, under its real lease.
                #expect(states[claims[3].job.id].map { $0.0 == "running" && !$0.3 } == true)

                let tasks = try await db.query(
                    "SELECT id, job_id, title, coalesce(description, '-'), due_at, coalesce(assignee, '-'), labels, created_by FROM tasks ORDER BY id")
                var found: [(String, String, String, String, Date?, String, [String], String)] = []
                for try await row in tasks.decode((String, String, String, String, Date?, String, [String], String).self) { found.append(row) }
                try #require(found.count == 2)
                #expect(found[0].0 == "tsk_a" && found[0].1 == claims[0].job.id && found[0].2 == "Call Ann" && found[0].3 == "about \"Q4\"")
                #expect(found[0].4.map { abs($0.timeIntervalSince(due)) < 0.000_002 } == true, "\(String(describing: found[0].4))")
                #expect(found[0].5 == "ann" && found[0].6 == ["sales", "ü"] && found[0].7 == "api_key:\(claims[0].job.submittedBy)")
                #expect(found[1].0 == "tsk_b" && found[1].3 == "-" && found[1].4 == nil && found[1].6 == [])

                let audit = try await db.query(
                    """
                    SELECT target_id, action, outcome, actor_id, details->>'attempt', coalesce(details->>'code', ''),
                           coalesce(details->'result'->>'task_id', '')
                    FROM audit_events WHERE action LIKE 'job.execution_%' AND action <> 'job.execution_started' ORDER BY seq
                    """)
                var events: [(String, String, String, String, String, String, String)] = []
                for try await row in audit.decode((String, String, String, String, String, String, String).self) { events.append(row) }
                #expect(events.map(\.0) == [claims[0].job.id, claims[1].job.id, claims[2].job.id])
                #expect(events.map(\.1) == ["job.execution_succeeded", "job.execution_succeeded", "job.execution_failed"])
                #expect(events.map(\.2) == ["success", "success", "failure"])
                #expect(events.allSatisfy { $0.3 == "exec-1" && $0.4 == "1" })
                #expect(events[2].5 == "timeout" && events[0].6 == "tsk_a")
            }
        }
    }

    /// The batch reads the jobs it records by their ids, nothing else: a hash join over the
    /// running jobs' index made it the executors' costliest statement under load.
    @Test func aBatchReadsOnlyItsJobs() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let template = try #require(try await fixture.submit(client, key: "template", body: taskBody).json["id"] as? String)
            try await fixture.execute(
                """
                INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key,
                                  submitted_by_type, submitted_by, next_attempt_at, created_at)
                SELECT 'copy-' || lpad(g::text, 6, '0'), workspace_id, action, params, payload_hash, 'queued', 'copy-' || g,
                       submitted_by_type, submitted_by, now() - interval '1 minute' + g * interval '1 microsecond', now()
                FROM jobs, generate_series(1, 5000) AS g WHERE id = '\(template)'
                """)
            try await fixture.execute("VACUUM ANALYZE jobs")
            let claims = try await fixture.db.withClient { db in
                try await ExecutionStore(client: db, logger: TestEnvironment.logger)
                    .claim(limit: 4, leaseSeconds: 60, executor: "test", perWorkspaceLimit: nil, after: "").claims
            }
            try #require(claims.count == 4)
            let outcomes: [(ExecutionStore.Outcome, ExecutionClaim)] = claims.enumerated().map { n, claim in
                (.succeeded(result: [:], task: NewTask(id: "tsk_\(n)", title: "T", description: nil, dueAt: nil, assignee: nil, labels: [])), claim)
            }
            // The statement is prepared, and after a few executions Postgres may run its
            // generic plan, which knows nothing of the parameter's size: that plan is read.
            let input = ExecutionStore.batchInput(outcomes).replacingOccurrences(of: "'", with: "''")
            let text = try await fixture.db.withClient { client in
                try await client.withConnection { connection in
                    try await connection.query("SET plan_cache_mode = force_generic_plan", logger: TestEnvironment.logger)
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "PREPARE batch(jsonb, text) AS " + ExecutionStore.BatchRecordStatement.sql),
                        logger: TestEnvironment.logger)
                    var text = ""
                    let rows = try await connection.query(
                        PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE batch('\(input)', 'test')"),
                        logger: TestEnvironment.logger)
                    for try await row in rows { if let bytes = row.first?.bytes { text += String(buffer: bytes) } }
                    return text
                }
            }
            let plan = try QueryPlan(json: text)
            #expect(plan.rows == 4)
            #expect(plan.touched < 400, "\(plan.text)")
            // By primary key: the running jobs' index (jobs_leased) holds an entry for every
            // job that ran since the last vacuum, which under load is most of what it holds.
            let jobScans = plan.nodes.filter { $0.relation == "jobs" && $0.type.hasSuffix("Scan") }
            #expect(!jobScans.isEmpty && jobScans.allSatisfy { $0.index == "jobs_pkey" }, "\(plan.text)")
        }
    }
}
