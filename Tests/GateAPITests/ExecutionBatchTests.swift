import Foundation
import Gate
import GateCore
import HummingbirdTesting
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
}
