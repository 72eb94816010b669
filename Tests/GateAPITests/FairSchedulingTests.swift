import Foundation
import Gate
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

/// The order executors take work in (docs/operations.md "Scheduling order"): round-robin
/// across workspaces, approved jobs before automatic ones within a workspace, and at
/// most WORKSPACE_MAX_CONCURRENT_EXECUTIONS running per workspace.
@Suite struct FairSchedulingTests {
    /// A user of workspace `other` who may submit there and set its policies.
    func otherAdmin(_ fixture: AuthFixture) async throws -> String {
        try await fixture.identity.token(
            TestIdentity.claims(sub: "olga", ws: ["other": ["jobs:write", "jobs:read", "policies:admin"]]))
    }

    /// task.create runs without approval in `other` too.
    func allowTasksInOther(_ client: any TestClientProtocol, _ fixture: AuthFixture, as credential: String) async throws {
        let response = try await client.execute(
            uri: "/v1/workspaces/other/policies/task.create", method: .put, headers: bearer(credential),
            body: ByteBuffer(string: #"{"approval":"auto"}"#))
        try #require(response.status == .ok)
    }

    /// `count` automatic task.create jobs in `workspace`, queued and due since `age`
    /// ago: copies of `template` (a real submission, so the executor accepts them),
    /// written by one statement, as a burst of submissions would leave them.
    func flood(
        _ fixture: AuthFixture, copying template: String, into workspace: String, count: Int, prefix: String,
        dueSecondsAgo age: Int = 60
    ) async throws {
        try await fixture.execute(
            """
            INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key,
                              submitted_by_type, submitted_by, next_attempt_at, created_at)
            SELECT '\(prefix)-' || lpad(g::text, 6, '0'), '\(workspace)', action, params, payload_hash, 'queued',
                   '\(prefix)-' || g, submitted_by_type, submitted_by,
                   now() - make_interval(secs => \(age)) + g * interval '1 microsecond', now() - make_interval(secs => \(age))
            FROM jobs, generate_series(1, \(count)) AS g WHERE id = '\(template)'
            """)
        try await fixture.execute("ANALYZE jobs")
    }

    /// A finished automatic task.create job of `acme`, to copy.
    func template(_ fixture: AuthFixture, _ client: any TestClientProtocol) async throws -> String {
        let submitted = try await fixture.submit(client, key: UUID().uuidString, body: taskBody)
        return try #require(submitted.json["id"] as? String)
    }

    /// Removes the template once copied, so that only the copies wait.
    func retire(_ fixture: AuthFixture, _ template: String) async throws {
        try await fixture.execute("DELETE FROM jobs WHERE id = '\(template)'")
    }

    func store(_ db: PostgresClient) -> ExecutionStore { ExecutionStore(client: db, logger: TestEnvironment.logger) }

    // MARK: - Fairness across workspaces

    /// The issue's scenario: workspace acme has 20,000 automatic jobs waiting; a job
    /// submitted in `other` runs within 2 s, while acme's backlog is still there.
    @Test func aJobOfAnotherWorkspaceDoesNotWaitBehindABacklog() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let olga = try await otherAdmin(fixture)
            try await allowTasksInOther(client, fixture, as: olga)
            let template = try await template(fixture, client)
            try await flood(fixture, copying: template, into: "acme", count: 20_000, prefix: "flood")

            try await fixture.withExecutor { executor in
                // The executor is draining acme's backlog when other's job arrives.
                let draining = try await eventually(within: .seconds(20)) {
                    try await fixture.count("SELECT count(*)::int FROM jobs WHERE workspace_id = 'acme' AND status = 'succeeded'") >= 50
                }
                try #require(draining)
                let submitted = try await fixture.submit(
                    client, key: "b-1", body: #"{"action":"task.create","params":{"title":"Call Bea"}}"#,
                    workspace: "other", credential: olga)
                #expect(submitted.status == .created)
                let id = try #require(submitted.json["id"] as? String)
                let deadline = ContinuousClock.now + .seconds(2)
                var job: [String: Any] = [:]
                while ContinuousClock.now < deadline {
                    job = try await client.execute(uri: "/v1/workspaces/other/jobs/\(id)", method: .get, headers: bearer(olga)).json
                    if job["status"] as? String == "succeeded" { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(job["status"] as? String == "succeeded", "other's job after 2 s: \(job)")
                #expect(job["attempts"] as? Int == 1)
                let waiting = try await fixture.count(
                    "SELECT count(*)::int FROM jobs WHERE workspace_id = 'acme' AND status = 'queued'")
                #expect(waiting > 10_000, "acme's backlog was not still there: \(waiting) queued")
            }
        }
    }

    /// With more workspaces waiting than free slots, successive claims go round: each
    /// workspace gets its first turn before any gets a second, and none waits out
    /// another's backlog.
    @Test func claimsTakeWorkspacesInTurn() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let template = try await template(fixture, client)
            try await fixture.db.withClient { db in
                let workspaces = WorkspaceStore(client: db, logger: TestEnvironment.logger)
                for id in ["w1", "w2", "w3", "w4", "w5"] {
                    _ = try await workspaces.create(id: id, name: id, defaults: [], actor: AuditActor(kind: .system, id: "test"))
                }
            }
            // w1 has a deep backlog, the others a few jobs each.
            try await flood(fixture, copying: template, into: "w1", count: 500, prefix: "w1")
            for workspace in ["w2", "w3", "w4", "w5"] {
                try await flood(fixture, copying: template, into: workspace, count: 3, prefix: workspace, dueSecondsAgo: 5)
            }
            try await retire(fixture, template)

            let rounds: [[String]] = try await fixture.db.withClient { db in
                var cursor = "", rounds: [[String]] = []
                for _ in 0..<5 {
                    let round = try await store(db).claim(
                        limit: 2, leaseSeconds: 60, executor: "test", perWorkspaceLimit: nil, after: cursor)
                    cursor = round.nextCursor ?? cursor
                    rounds.append(round.claims.map(\.job.workspaceID).sorted())
                }
                return rounds
            }
            // Five workspaces, two slots a claim: w1..w5 once each (the first turn), then
            // the second turn starts over at w1.
            #expect(rounds == [["w1", "w2"], ["w3", "w4"], ["w1", "w5"], ["w2", "w3"], ["w4", "w5"]])
        }
    }

    /// The claim reads what it takes, not the backlog: with 20,000 jobs of one workspace
    /// waiting, and a few of others, it touches a few hundred rows of its plan at most
    /// (the executors claim every time a slot frees up).
    @Test func theClaimReadsNoBacklog() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let template = try await template(fixture, client)
            try await flood(fixture, copying: template, into: "acme", count: 20_000, prefix: "a")
            try await flood(fixture, copying: template, into: "other", count: 3, prefix: "b", dueSecondsAgo: 5)
            try await retire(fixture, template)
            try await fixture.execute("VACUUM ANALYZE jobs")
            // The first takes other's 3 jobs and 5 of acme's (turn by turn); the second,
            // with a limit of 8 running per workspace, the 3 acme may still start.
            for (perWorkspace, claimed) in [(nil, 8.0), (Optional(8), 3.0)] {
                let plan = try await fixture.explainAnalyze(
                    ExecutionStore.claimStatement(
                        limit: 8, leaseSeconds: 60, executor: "test", perWorkspaceLimit: perWorkspace, after: ""))
                #expect(plan.rows == claimed)
                #expect(plan.touched < 400, "\(plan.text)")
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE workspace_id = 'other' AND status = 'running'") == 3)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE workspace_id = 'acme' AND status = 'running'") == 8)
        }
    }

    /// Not a check: the claim's plan with EXPLAIN (ANALYZE, BUFFERS) at CLAIM_PLAN_ROWS
    /// queued jobs in one workspace and a few in three others, for bench/RESULTS.md.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CLAIM_PLAN_ROWS"] != nil))
    func claimPlanAtScale() async throws {
        let rows = Int(ProcessInfo.processInfo.environment["CLAIM_PLAN_ROWS"] ?? "") ?? 1_000_000
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let template = try await template(fixture, client)
            // In parts: one statement per 100,000 rows stays within the client's time limit.
            for part in 0..<(rows + 99_999) / 100_000 {
                try await flood(
                    fixture, copying: template, into: "acme", count: min(100_000, rows - part * 100_000), prefix: "a\(part)")
            }
            try await fixture.db.withClient { db in
                let workspaces = WorkspaceStore(client: db, logger: TestEnvironment.logger)
                for id in ["w1", "w2", "w3"] {
                    _ = try await workspaces.create(id: id, name: id, defaults: [], actor: AuditActor(kind: .system, id: "test"))
                }
            }
            for id in ["w1", "w2", "w3"] {
                try await flood(fixture, copying: template, into: id, count: 5, prefix: id, dueSecondsAgo: 5)
            }
            try await retire(fixture, template)
            try await fixture.execute("VACUUM ANALYZE jobs")
            /// Prints the first plan of a series in full, then one line per run.
            func explain(_ title: String, runs: Int, _ query: @escaping () -> PostgresQuery) async throws {
                for run in 1...runs {
                    let lines = try await fixture.explainBuffers(query())
                    if run == 1 { print("=== \(title)\n" + lines.joined(separator: "\n")) }
                    print("--- \(title), run \(run): " + planSummary(lines))
                }
            }
            // All four workspaces (the others' 15 jobs are taken in the first runs), then acme alone.
            try await explain("\(rows) in acme, 5 in w1..w3", runs: 15) {
                ExecutionStore.claimStatement(limit: 8, leaseSeconds: 60, executor: "test", perWorkspaceLimit: nil, after: "")
            }
            try await explain("acme alone, limit 1000 per workspace", runs: 15) {
                ExecutionStore.claimStatement(limit: 8, leaseSeconds: 60, executor: "test", perWorkspaceLimit: 1000, after: "")
            }
            // The claim as the executor runs it, seen from the client: 40 claims of 8.
            let times = try await fixture.db.withClient { db in
                var times: [Double] = []
                let store = ExecutionStore(client: db, logger: TestEnvironment.logger)
                for _ in 0..<40 {
                    let started = ContinuousClock.now
                    _ = try await store.claim(limit: 8, leaseSeconds: 60, executor: "test", perWorkspaceLimit: nil, after: "")
                    times.append((ContinuousClock.now - started) / .microseconds(1) / 1000)
                }
                return times.sorted()
            }
            let quartiles = [10, 20, 30].map { String(format: "%.2f", times[$0]) }.joined(separator: " / ")
            print("--- claim of 8 at \(rows), ms p25 / p50 / p75: \(quartiles)")
        }
    }

    // MARK: - Priority within a workspace

    /// A job a reviewer approved runs before the workspace's automatic jobs, even those
    /// submitted (and due) earlier: a person is waiting for it.
    @Test func anApprovedJobRunsBeforeOlderAutomaticJobs() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let template = try await template(fixture, client)
            try await flood(fixture, copying: template, into: "acme", count: 200, prefix: "auto")
            try await retire(fixture, template)
            // task.create now needs approval; the automatic jobs already queued stay so.
            let put = try await client.execute(
                uri: "/v1/workspaces/acme/policies/task.create", method: .put, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"approval":"required","approval_timeout_seconds":3600}"#))
            #expect(put.status == .ok)
            let gated = try await fixture.submit(client, key: "gated", body: #"{"action":"task.create","params":{"title":"Reviewed"}}"#)
            let gatedID = try #require(gated.json["id"] as? String)
            let approval = try await fixture.approvalID(of: gatedID)
            let vote = try await fixture.decide(client, "approve", approval, as: try await fixture.reviewer("rita"))
            #expect(vote.status == .ok)

            try await fixture.withExecutor(environment: ["EXECUTOR_CONCURRENCY": "1"]) { _ in
                try await fixture.waitForJob(client, gatedID) { $0 == "succeeded" }
            }
            // One slot: the claims' order is the execution order. The approved job came
            // first, ahead of 200 automatic jobs due a minute before it.
            let first = try await fixture.db.withClient { db in
                let rows = try await db.query(
                    "SELECT target_id FROM audit_events WHERE action = 'job.execution_started' ORDER BY seq LIMIT 1")
                for try await (id) in rows.decode(String.self) { return id }
                return ""
            }
            #expect(first == gatedID)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE id LIKE 'auto-%' AND status = 'queued'") > 150)
        }
    }

    /// A retry due now takes its place by its due time (its backoff): it neither jumps
    /// ahead of work that became due before it nor is put behind work due after it.
    @Test func aRetryTakesItsPlaceByItsDueTime() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let template = try await template(fixture, client)
            try await flood(fixture, copying: template, into: "acme", count: 3, prefix: "early", dueSecondsAgo: 30)
            try await flood(fixture, copying: template, into: "acme", count: 3, prefix: "late", dueSecondsAgo: 10)
            // A retry that fell due 20 s ago, between the two groups.
            try await flood(fixture, copying: template, into: "acme", count: 1, prefix: "retry", dueSecondsAgo: 20)
            try await fixture.execute("UPDATE jobs SET attempts = 2 WHERE id = 'retry-000001'")
            try await retire(fixture, template)
            let order = try await fixture.db.withClient { db in
                var order: [String] = []
                for _ in 0..<7 {
                    let round = try await store(db).claim(
                        limit: 1, leaseSeconds: 60, executor: "test", perWorkspaceLimit: nil, after: "")
                    order += round.claims.map(\.job.id)
                }
                return order
            }
            #expect(order == ["early-000001", "early-000002", "early-000003", "retry-000001", "late-000001", "late-000002", "late-000003"])
        }
    }

    // MARK: - WORKSPACE_MAX_CONCURRENT_EXECUTIONS

    /// Claims by several executors (as replicas make them) never leave a workspace with
    /// more running than its limit; another workspace's jobs still start, and the
    /// workspace at its limit is reported.
    @Test func aWorkspaceNeverRunsMoreThanItsLimit() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let template = try await template(fixture, client)
            try await flood(fixture, copying: template, into: "acme", count: 100, prefix: "a")
            try await flood(fixture, copying: template, into: "other", count: 2, prefix: "b", dueSecondsAgo: 5)
            try await retire(fixture, template)
            try await fixture.db.withClient { db in
                let first = try await store(db).claim(
                    limit: 8, leaseSeconds: 60, executor: "replica-1", perWorkspaceLimit: 3, after: "")
                #expect(first.claims.filter { $0.job.workspaceID == "acme" }.count == 3)
                #expect(first.claims.filter { $0.job.workspaceID == "other" }.count == 2)
                // acme had due jobs it could not start only once the limit was reached.
                #expect(first.workspacesAtLimit == [])
                let second = try await store(db).claim(
                    limit: 8, leaseSeconds: 60, executor: "replica-2", perWorkspaceLimit: 3, after: "")
                #expect(second.claims.isEmpty)
                #expect(second.workspacesAtLimit == ["acme"])
                // One finishes: exactly one more may start.
                let finished = first.claims.first { $0.job.workspaceID == "acme" }!
                #expect(try await store(db).record(.succeeded(result: [:], task: nil), for: finished, executor: "replica-1"))
                let third = try await store(db).claim(
                    limit: 8, leaseSeconds: 60, executor: "replica-2", perWorkspaceLimit: 3, after: "")
                #expect(third.claims.map(\.job.workspaceID) == ["acme"])
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE workspace_id = 'acme' AND status = 'running'") == 3)
        }
    }

    /// Through the executor: with a limit of 2, acme's jobs never run more than 2 at
    /// once, although 8 slots are free.
    @Test func theExecutorKeepsToTheLimit() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let template = try await template(fixture, client)
            try await flood(fixture, copying: template, into: "acme", count: 300, prefix: "a")
            try await retire(fixture, template)
            // Sampled while the executor drains them: running jobs of acme.
            let peak = try await fixture.db.withClient { db in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    group.addTask {
                        try await fixture.withExecutor(
                            environment: ["EXECUTOR_CONCURRENCY": "8", "WORKSPACE_MAX_CONCURRENT_EXECUTIONS": "2"]
                        ) { _ in
                            let deadline = ContinuousClock.now + .seconds(60)
                            while try await fixture.count("SELECT count(*)::int FROM jobs WHERE status IN ('queued', 'running')") > 0,
                                ContinuousClock.now < deadline
                            {
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        }
                        return 0
                    }
                    group.addTask {
                        var peak = 0
                        let deadline = ContinuousClock.now + .seconds(60)
                        while try await fixture.count("SELECT count(*)::int FROM jobs WHERE status IN ('queued', 'running')") > 0,
                            ContinuousClock.now < deadline
                        {
                            let rows = try await db.query("SELECT count(*)::int FROM jobs WHERE status = 'running'")
                            for try await (running) in rows.decode(Int.self) { peak = max(peak, running) }
                            try await Task.sleep(for: .milliseconds(1))
                        }
                        return peak
                    }
                    var peak = 0
                    for try await value in group { peak = max(peak, value) }
                    return peak
                }
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE status = 'succeeded'") == 300)
            #expect(peak <= 2)
            #expect(peak > 0)
        }
    }

    @Test func aWorkspaceAtItsLimitIsLoggedOnceAMinute() {
        var reports = LimitReports()
        let start = ContinuousClock.now
        #expect(reports.due(["acme"], now: start) == ["acme"])
        #expect(reports.due(["acme", "other"], now: start + .seconds(1)) == ["other"])
        #expect(reports.due(["acme", "other"], now: start + .seconds(59)) == [])
        #expect(reports.due(["acme"], now: start + .seconds(61)) == ["acme"])
    }

    @Test func theLimitIsCheckedAtStartUp() throws {
        let minimal = ["DATABASE_URL": "postgres://gate@127.0.0.1:5432/gateapi"]
        #expect(try AppConfig.load(from: minimal).executor.workspaceMaxConcurrent == nil)
        #expect(try AppConfig.load(from: minimal.merging(["WORKSPACE_MAX_CONCURRENT_EXECUTIONS": "3"]) { $1 }).executor.workspaceMaxConcurrent == 3)
        for bad in ["-1", "many", "100001"] {
            #expect {
                try AppConfig.load(from: minimal.merging(["WORKSPACE_MAX_CONCURRENT_EXECUTIONS": bad]) { $1 })
            } throws: { ($0 as? ConfigError)?.variable == "WORKSPACE_MAX_CONCURRENT_EXECUTIONS" }
        }
    }

    // MARK: - Exactly once across replicas

    /// Two executors (as two replicas run them) on one database, jobs of two workspaces
    /// and both kinds: every job runs exactly once, in spite of the ranked, locked claims.
    @Test func twoExecutorsRunEveryJobOfEveryWorkspaceOnce() async throws {
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let olga = try await otherAdmin(fixture)
            try await allowTasksInOther(client, fixture, as: olga)
            let template = try await template(fixture, client)
            try await flood(fixture, copying: template, into: "acme", count: 600, prefix: "a")
            try await flood(fixture, copying: template, into: "other", count: 300, prefix: "b")
            let total = 901
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await fixture.withExecutor(environment: ["EXECUTOR_CONCURRENCY": "8"]) { _ in
                            let deadline = ContinuousClock.now + .seconds(60)
                            while try await fixture.count("SELECT count(*)::int FROM jobs WHERE status = 'succeeded'") < total,
                                ContinuousClock.now < deadline
                            {
                                try await Task.sleep(for: .milliseconds(50))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE status = 'succeeded' AND attempts = 1") == total)
            #expect(try await fixture.count("SELECT count(*)::int FROM tasks") == total)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.execution_started'") == total)
            #expect(
                try await fixture.count("SELECT count(DISTINCT target_id)::int FROM audit_events WHERE action = 'job.execution_started'")
                    == total)
        }
    }
}
