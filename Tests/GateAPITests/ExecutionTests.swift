import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

@Suite struct ExecutionTests {
    let gatedTask = #"{"approval":"required","approval_timeout_seconds":3600}"#

    func put(_ client: any TestClientProtocol, _ fixture: AuthFixture, policy action: String, _ body: String) async throws {
        let response = try await client.execute(
            uri: "/v1/workspaces/acme/policies/\(action)", method: .put, headers: bearer(fixture.adminKey),
            body: ByteBuffer(string: body))
        #expect(response.status == .ok)
    }

    /// A gated task.create job, approved by a reviewer; returns the job id.
    func approvedTask(_ client: any TestClientProtocol, _ fixture: AuthFixture, title: String = "Call Ann") async throws -> String {
        let submitted = try await fixture.submit(
            client, key: UUID().uuidString, body: #"{"action":"task.create","params":{"title":"\#(title)"}}"#)
        let id = try #require(submitted.json["id"] as? String)
        #expect(submitted.json["status"] as? String == "pending_approval")
        let approvalID = try await fixture.approvalID(of: id)
        let vote = try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("rita"))
        #expect(vote.status == .ok)
        return id
    }

    @Test func aQueuedTaskRunsOnceAndIsListed() async throws {
        try await AuthFixture.with(environment: AuthFixture.fastExecutor) { fixture, client in
            try await fixture.allowBothActions(client)
            let submitted = try await fixture.submit(
                client, key: "t1", body: #"{"action":"task.create","params":{"title":"Call Ann","assignee":"sam","labels":["sales"],"due_at":"2026-12-01T09:00:00Z"}}"#)
            let id = try #require(submitted.json["id"] as? String)
            let job = try await fixture.waitForJob(client, id) { $0 == "succeeded" }
            #expect(job["attempts"] as? Int == 1)
            let result = try #require(job["result"] as? [String: Any])
            let taskID = try #require(result["task_id"] as? String)

            let tasks = try await client.execute(uri: "/v1/workspaces/acme/tasks", method: .get, headers: bearer(fixture.adminKey))
            #expect(tasks.status == .ok)
            let items = try #require(tasks.json["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items.first?["id"] as? String == taskID)
            #expect(items.first?["job_id"] as? String == id)
            #expect(items.first?["title"] as? String == "Call Ann")
            #expect(items.first?["assignee"] as? String == "sam")
            #expect(items.first?["labels"] as? [String] == ["sales"])
            #expect(items.first?["due_at"] as? String == "2026-12-01T09:00:00Z")
            let bySam = try await client.execute(uri: "/v1/workspaces/acme/tasks?assignee=sam", method: .get, headers: bearer(fixture.adminKey))
            #expect((bySam.json["items"] as? [[String: Any]])?.count == 1)
            // A filter Postgres cannot take (U+0000 was a 500) or no task can match is a 400.
            for bad in ["%00", "", "a%0Ab"] {
                let response = try await client.execute(uri: "/v1/workspaces/acme/tasks?assignee=\(bad)", method: .get, headers: bearer(fixture.adminKey))
                #expect(response.status == .badRequest, "assignee=\(bad)")
            }
            #expect(try await fixture.auditTrail(target: id) == ["job.submitted", "job.execution_started", "job.execution_succeeded"])
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"gateapi_executions_total{action="task.create",outcome="succeeded"} 1"#))
            #expect(metrics.contains(#"gateapi_execution_duration_seconds_count{action="task.create"} 1"#))

            // Nobody outside the workspace sees its tasks.
            let outsider = try await fixture.identity.token(TestIdentity.claims(sub: "eve", ws: ["other": ["jobs:read"]]))
            let hidden = try await client.execute(uri: "/v1/workspaces/acme/tasks", method: .get, headers: bearer(outsider))
            #expect(hidden.status == .notFound)
            let empty = try await client.execute(uri: "/v1/workspaces/other/tasks", method: .get, headers: bearer(outsider))
            #expect((empty.json["items"] as? [Any])?.count == 0)
        }
    }

    @Test func onlyApprovedJobsRun() async throws {
        try await AuthFixture.with(environment: AuthFixture.fastExecutor.merging(["SWEEP_INTERVAL_MS": "100"]) { $1 }) { fixture, client in
            try await put(client, fixture, policy: "task.create", gatedTask)
            var ids: [String: String] = [:]
            for name in ["reject", "cancel", "expire", "approve", "wait"] {
                let submitted = try await fixture.submit(
                    client, key: name, body: #"{"action":"task.create","params":{"title":"\#(name)"}}"#)
                ids[name] = try #require(submitted.json["id"] as? String)
            }
            let rita = try await fixture.reviewer("rita")
            let rejected = try await fixture.decide(
                client, "reject", try await fixture.approvalID(of: ids["reject"]!), as: rita, body: #"{"reason":"no"}"#)
            #expect(rejected.status == .ok)
            let cancelled = try await client.execute(
                uri: "/v1/workspaces/acme/jobs/\(ids["cancel"]!)/cancel", method: .post, headers: bearer(fixture.adminKey))
            #expect(cancelled.status == .ok)
            #expect(try await fixture.decide(client, "approve", try await fixture.approvalID(of: ids["approve"]!), as: rita).status == .ok)
            // Two reach their deadline.
            try await fixture.execute(
                "UPDATE approvals SET expires_at = now() - interval '1 second' WHERE job_id IN ('\(ids["expire"]!)', '\(ids["wait"]!)')")
            try await fixture.execute(
                "UPDATE jobs SET expires_at = now() - interval '1 second' WHERE id IN ('\(ids["expire"]!)', '\(ids["wait"]!)')")

            try await fixture.waitForJob(client, ids["approve"]!) { $0 == "succeeded" }
            try await fixture.waitForJob(client, ids["expire"]!) { $0 == "expired" }
            try await fixture.waitForJob(client, ids["wait"]!) { $0 == "expired" }
            // Several more polls of the executors.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await fixture.count("SELECT count(*)::int FROM tasks") == 1)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.execution_started'") == 1)
            #expect(try await fixture.job(client, ids["reject"]!)["status"] as? String == "rejected")
            #expect(try await fixture.job(client, ids["cancel"]!)["status"] as? String == "cancelled")
        }
    }

    @Test func paramsChangedAfterApprovalAreRefused() async throws {
        try await AuthFixture.with { fixture, client in
            try await put(client, fixture, policy: "task.create", gatedTask)
            let tampered = try await approvedTask(client, fixture, title: "Call Ann")
            // Someone with database access edits the approved params…
            try await fixture.execute(
                "UPDATE jobs SET params = jsonb_set(params, '{title}', '\"Wire the money\"') WHERE id = '\(tampered)'")
            try await fixture.withExecutor { _ in
                try await fixture.waitForJob(client, tampered) { $0 == "failed" }
            }
            let job = try await fixture.job(client, tampered)
            #expect(job["status_code"] as? String == "payload_hash_mismatch")
            #expect(try await fixture.count("SELECT count(*)::int FROM tasks WHERE title = 'Wire the money'") == 0)
            #expect(try await fixture.auditTrail(target: tampered).suffix(2) == ["job.execution_started", "job.execution_failed"])
        }
    }

    @Test func aPolicyDisabledAfterApprovalStopsTheJob() async throws {
        try await AuthFixture.with { fixture, client in
            try await put(client, fixture, policy: "task.create", gatedTask)
            let id = try await approvedTask(client, fixture)
            try await put(client, fixture, policy: "task.create", #"{"enabled":false}"#)
            try await fixture.withExecutor { _ in
                try await fixture.waitForJob(client, id) { $0 == "failed" }
            }
            #expect(try await fixture.job(client, id)["status_code"] as? String == "action_not_allowed")
            #expect(try await fixture.count("SELECT count(*)::int FROM tasks") == 0)
        }
    }

    @Test func retriesEndInTheDeadLettersAndAnAdminRequeues() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            // No Gmail credentials in this workspace: every attempt fails, retryably.
            let (id, approvalID, _) = try await fixture.pendingEmail(client)
            #expect(try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("rita")).status == .ok)
            try await fixture.withExecutor(environment: ["ACTION_MAX_ATTEMPTS": "3"]) { executor in
                try await fixture.waitForJob(client, id) { $0 == "dead" }
                let metrics = String(buffer: try await executor.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"gateapi_execution_retries_total{action="gmail.send"} 2"#))
                #expect(metrics.contains(#"gateapi_dead_letters_total{action="gmail.send"} 1"#))
            }
            let dead = try await fixture.job(client, id)
            #expect(dead["attempts"] as? Int == 3)
            #expect(dead["status_code"] as? String == "gmail_not_configured")
            #expect(
                try await fixture.auditTrail(target: id).filter { $0.hasPrefix("job.execution") || $0 == "job.dead_lettered" } == [
                    "job.execution_started", "job.execution_failed", "job.execution_started", "job.execution_failed",
                    "job.execution_started", "job.dead_lettered",
                ])

            let listed = try await client.execute(uri: "/v1/workspaces/acme/dead-letters", method: .get, headers: bearer(fixture.adminKey))
            #expect(listed.status == .ok)
            #expect((listed.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])

            // Reviewers cannot requeue; admins can, once.
            let reviewer = try await fixture.reviewer("rita")
            let refused = try await client.execute(
                uri: "/v1/workspaces/acme/dead-letters/\(id)/requeue", method: .post, headers: bearer(reviewer))
            #expect(refused.status == .forbidden)
            let requeued = try await client.execute(
                uri: "/v1/workspaces/acme/dead-letters/\(id)/requeue", method: .post, headers: bearer(fixture.adminKey))
            #expect(requeued.status == .ok)
            #expect(requeued.json["status"] as? String == "approved")
            #expect(requeued.json["attempts"] as? Int == 0)
            let again = try await client.execute(
                uri: "/v1/workspaces/acme/dead-letters/\(id)/requeue", method: .post, headers: bearer(fixture.adminKey))
            #expect(again.status == .conflict)
            let unknown = try await client.execute(
                uri: "/v1/workspaces/acme/dead-letters/job_nope/requeue", method: .post, headers: bearer(fixture.adminKey))
            #expect(unknown.status == .notFound)
            #expect(try await fixture.auditRows(action: "job.requeued").map(\.1) == ["success"])
        }
    }

    @Test func twoExecutorsNeverRunOneJob() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let count = 60
            for n in 0..<count {
                let submitted = try await fixture.submit(
                    client, key: "bulk-\(n)", body: #"{"action":"task.create","params":{"title":"Task \#(n)"}}"#)
                #expect(submitted.status == .created)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await fixture.withExecutor(environment: ["EXECUTOR_CONCURRENCY": "8"]) { _ in
                            let deadline = ContinuousClock.now + .seconds(30)
                            while try await fixture.count("SELECT count(*)::int FROM jobs WHERE status = 'succeeded'") < count,
                                ContinuousClock.now < deadline
                            {
                                try await Task.sleep(for: .milliseconds(50))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE status = 'succeeded' AND attempts = 1") == count)
            #expect(try await fixture.count("SELECT count(*)::int FROM tasks") == count)
            #expect(try await fixture.count("SELECT count(DISTINCT job_id)::int FROM tasks") == count)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.execution_started'") == count)
        }
    }

    @Test func aJobWhoseExecutorDiedIsClaimedAgainAfterItsLease() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let submitted = try await fixture.submit(client, key: "crash", body: taskBody)
            let id = try #require(submitted.json["id"] as? String)
            // A replica claims the job with a short lease and dies before finishing.
            let dead = try await fixture.db.withClient { db in
                try await ExecutionStore(client: db, logger: TestEnvironment.logger).claim(
                    limit: 10, leaseSeconds: 1, executor: "executor@crashed")
            }
            #expect(dead.map(\.job.id) == [id])
            #expect(try await fixture.job(client, id)["status"] as? String == "running")
            try await fixture.withExecutor { _ in
                let job = try await fixture.waitForJob(client, id) { $0 == "succeeded" }
                #expect(job["attempts"] as? Int == 2)
            }
            // The crashed replica's late answer is ignored: its lease is gone.
            let recorded = try await fixture.db.withClient { db in
                try await ExecutionStore(client: db, logger: TestEnvironment.logger).record(
                    .failed(code: "late", message: "late"), for: dead[0], executor: "executor@crashed")
            }
            #expect(!recorded)
            #expect(try await fixture.job(client, id)["status"] as? String == "succeeded")
            let recovered = try await fixture.count(
                "SELECT count(*)::int FROM audit_events WHERE action = 'job.execution_started' AND (details->>'lease_recovered')::boolean")
            #expect(recovered == 1)
            #expect(try await fixture.count("SELECT count(*)::int FROM tasks") == 1)
        }
    }
}

extension AuthFixture {
    func approvalID(of jobID: String) async throws -> String {
        try await db.withClient { client in
            let rows = try await client.query("SELECT id FROM approvals WHERE job_id = \(jobID)")
            for try await (id) in rows.decode(String.self) { return id }
            return ""
        }
    }
}
