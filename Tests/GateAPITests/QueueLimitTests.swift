import Foundation
import Gate
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI
@testable import Persistence

/// Backpressure (docs/operations.md "Backpressure"): a workspace whose automatic queue
/// is past its limit gets 429 on new automatic submissions, audited; its gated
/// submissions and other workspaces are taken; it is taken again once the queue drains.
@Suite struct QueueLimitTests {
    static let environment = [
        "EXECUTOR_CONCURRENCY": "0", "WORKSPACE_MAX_QUEUED_JOBS": "100", "QUEUE_SAMPLE_INTERVAL_MS": "100",
    ]

    /// `count` queued copies of a real task.create submission in acme, due `age` s ago.
    func flood(_ fixture: AuthFixture, _ client: any TestClientProtocol, count: Int, dueSecondsAgo age: Int = 5) async throws {
        let template = try #require(try await fixture.submit(client, key: "template", body: taskBody).json["id"] as? String)
        try await fixture.execute(
            """
            INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key,
                              submitted_by_type, submitted_by, next_attempt_at, created_at)
            SELECT 'flood-' || lpad(g::text, 6, '0'), workspace_id, action, params, payload_hash, 'queued',
                   'flood-' || g, submitted_by_type, submitted_by, now() - make_interval(secs => \(age)), now()
            FROM jobs, generate_series(1, \(count)) AS g WHERE id = '\(template)'
            """)
    }

    func otherAgent(_ fixture: AuthFixture) async throws -> String {
        try await fixture.identity.token(
            TestIdentity.claims(sub: "olga", ws: ["other": ["jobs:write", "jobs:read", "policies:admin"]]))
    }

    @Test func automaticSubmissionsPastTheLimitAreRefusedUntilTheQueueDrains() async throws {
        try await AuthFixture.with(environment: Self.environment) { fixture, client in
            try await fixture.allowBothActions(client)
            let olga = try await otherAgent(fixture)
            let policy = try await client.execute(
                uri: "/v1/workspaces/other/policies/task.create", method: .put, headers: bearer(olga),
                body: ByteBuffer(string: #"{"approval":"auto"}"#))
            try #require(policy.status == .ok)
            // Made before the flood: its retries are answered with it throughout.
            let early = try await fixture.submit(client, key: "early", body: taskBody)
            try #require(early.status == .created)
            try await flood(fixture, client, count: 150)

            let body = #"{"action":"task.create","params":{"title":"One more"}}"#
            // Until the sampler has seen the flood, submissions are still taken: each
            // probe is a new key (a retry of a key already taken is answered with its job).
            var refused: TestResponse?
            var probe = 0
            let seen = try await eventually(within: .seconds(10)) {
                probe += 1
                let response = try await fixture.submit(client, key: "late-\(probe)", body: body)
                refused = response
                return response.status == .tooManyRequests
            }
            try #require(seen, "never refused: \(refused.map { String(buffer: $0.body) } ?? "")")
            let response = try #require(refused)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // Charged like any refused submission, so the client sees its budget too.
            #expect(response.headers[.rateLimitPolicy] != nil && response.headers[.rateLimitRemaining] != nil)
            #expect(response.json["reason"] as? String == "queue_full")
            #expect((response.json["detail"] as? String)?.contains("limit of 100") == true)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE idempotency_key = 'late-\(probe)'") == 0)
            let refusals = try await fixture.auditRows(action: "job.refused")
            #expect(refusals.contains { $0.1 == "denied" && $0.2 == "queue_full" })

            // A retry of a job made before is still answered with it.
            let replay = try await fixture.submit(client, key: "early", body: taskBody)
            #expect(replay.status == .ok && replay.headers[.idempotentReplayed] == "true")
            // Jobs that need approval, and other workspaces, are taken.
            let gated = try await fixture.submit(client, key: "gated", body: emailBody)
            #expect(gated.status == .created && gated.json["status"] as? String == "pending_approval")
            let elsewhere = try await fixture.submit(client, key: "b-1", body: body, workspace: "other", credential: olga)
            #expect(elsewhere.status == .created && elsewhere.json["status"] as? String == "queued")

            // The queue's depth is on /metrics, by workspace.
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let depth = metrics.split(separator: "\n").first { $0.hasPrefix(#"gateapi_workspace_queued_jobs{workspace="acme"}"#) }
            // Counted a tenth past the limit, no further.
            #expect(depth.flatMap { Double($0.split(separator: " ").last ?? "") } == 110, "\(depth ?? "no series")")
            #expect(metrics.contains(#"gateapi_workspace_oldest_due_job_seconds{workspace="acme"}"#))

            // Drained (as the executors would): the same key is a new submission again.
            try await fixture.execute("DELETE FROM jobs WHERE id LIKE 'flood-%'")
            var accepted: TestResponse?
            let taken = try await eventually(within: .seconds(10)) {
                accepted = try await fixture.submit(client, key: "late-\(probe)", body: body)
                return accepted?.status == .created
            }
            #expect(taken, "still refused after the queue drained: \(accepted.map { String(buffer: $0.body) } ?? "")")
        }
    }

    /// With WORKSPACE_MAX_QUEUE_AGE_SECONDS a few old due jobs are enough: the queue is
    /// not being worked off.
    @Test func aQueueWhoseOldestDueJobWaitedTooLongIsRefused() async throws {
        var environment = Self.environment
        environment["WORKSPACE_MAX_QUEUE_AGE_SECONDS"] = "30"
        try await AuthFixture.with(environment: environment) { fixture, client in
            try await fixture.allowBothActions(client)
            try await flood(fixture, client, count: 3, dueSecondsAgo: 120)
            var last: TestResponse?
            var probe = 0
            let seen = try await eventually(within: .seconds(10)) {
                probe += 1
                last = try await fixture.submit(client, key: "late-\(probe)", body: #"{"action":"task.create","params":{"title":"x"}}"#)
                return last?.status == .tooManyRequests
            }
            try #require(seen, "never refused: \(last.map { String(buffer: $0.body) } ?? "")")
            #expect(last?.json["reason"] as? String == "queue_behind")
            #expect(try await fixture.auditRows(action: "job.refused").contains { $0.2 == "queue_behind" })
        }
    }

    /// The sample reads up to its cap of a deep queue, not the whole of it.
    @Test func theSampleCountsNoFurtherThanItsCap() async throws {
        try await AuthFixture.with(environment: Self.environment) { fixture, client in
            try await fixture.allowBothActions(client)
            try await flood(fixture, client, count: 20_000)
            try await fixture.execute("VACUUM ANALYZE jobs")
            let plan = try await fixture.explainAnalyze(ExecutionStore.sampleStatement(cap: 110))
            #expect(plan.rows == 1)
            #expect(plan.touched < 1_000, "\(plan.text)")
            let sample = try await fixture.db.withClient { db in
                try await ExecutionStore(client: db, logger: TestEnvironment.logger).sampleQueues(cap: 110)
            }
            #expect(sample.map(\.workspaceID) == ["acme"] && sample.first?.queued == 110)
            #expect(sample.first.map { $0.oldestQueuedDueSeconds >= 5 && $0.oldestApprovedDueSeconds == 0 } == true)
        }
    }

    /// Not a check: the sample's plan with EXPLAIN (ANALYZE, BUFFERS) at QUEUE_SAMPLE_ROWS
    /// queued jobs in one workspace and a few in 200 others, for bench/RESULTS.md.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["QUEUE_SAMPLE_ROWS"] != nil))
    func samplePlanAtScale() async throws {
        let rows = Int(ProcessInfo.processInfo.environment["QUEUE_SAMPLE_ROWS"] ?? "") ?? 1_000_000
        try await AuthFixture.with(environment: ["EXECUTOR_CONCURRENCY": "0"]) { fixture, client in
            try await fixture.allowBothActions(client)
            // The submission with key `template` is what the rows below copy.
            try await flood(fixture, client, count: 0)
            for part in 0..<(rows + 99_999) / 100_000 {
                try await fixture.execute(
                    """
                    INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key,
                                      submitted_by_type, submitted_by, next_attempt_at, created_at)
                    SELECT 'big-\(part)-' || g, workspace_id, action, params, payload_hash, 'queued', 'big-\(part)-' || g,
                           submitted_by_type, submitted_by, now() - interval '1 minute', now()
                    FROM jobs, generate_series(1, \(min(100_000, rows - part * 100_000))) AS g WHERE idempotency_key = 'template'
                    """)
            }
            try await fixture.execute(
                """
                INSERT INTO workspaces (id, name) SELECT 'w' || lpad(g::text, 3, '0'), 'w' || g FROM generate_series(1, 200) AS g
                """)
            try await fixture.execute(
                """
                INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key,
                                  submitted_by_type, submitted_by, next_attempt_at, created_at)
                SELECT 'small-' || w || '-' || g, 'w' || lpad(w::text, 3, '0'), action, params, payload_hash, 'queued',
                       'small-' || g, submitted_by_type, submitted_by, now() - interval '5 seconds', now()
                FROM jobs, generate_series(1, 200) AS w, generate_series(1, 5) AS g WHERE idempotency_key = 'template'
                """)
            try await fixture.execute("VACUUM ANALYZE jobs")
            for cap in [110_001, 11_001] {
                for run in 1...5 {
                    let lines = try await fixture.explainBuffers(ExecutionStore.sampleStatement(cap: cap))
                    if run == 1 { print("=== sample, cap \(cap), \(rows) in acme, 5 in each of 200 others\n" + lines.joined(separator: "\n")) }
                    print("--- cap \(cap), run \(run): " + planSummary(lines))
                }
            }
        }
    }

    /// The sampler's memory: Retry-After from how fast a refused queue shrinks, and a
    /// change logged once, not every sample.
    @Test func historyWorksOutTheDrainAndReportsChangesOnce() {
        var history = QueueHistory()
        let limits = QueueLimits(maxQueued: 100, maxAgeSeconds: nil)
        let start = ContinuousClock.now
        func sample(_ queued: Int) -> [WorkspaceQueueSample] {
            [WorkspaceQueueSample(workspaceID: "acme", queued: queued, oldestQueuedDueSeconds: 1, oldestApprovedDueSeconds: 0)]
        }
        let first = history.record(sample(109), at: start, limits: limits)
        #expect(first.refusals["acme"]?.retryAfterSeconds == 10)
        #expect(first.changes.count == 1)
        // 4 fewer in 2 s: 2/s, and 5 over the limit: 3 s.
        let second = history.record(sample(105), at: start + .seconds(2), limits: limits)
        #expect(second.refusals["acme"]?.retryAfterSeconds == 3)
        #expect(second.changes.isEmpty)
        let third = history.record(sample(90), at: start + .seconds(3), limits: limits)
        #expect(third.refusals.isEmpty && third.changes == [.accepted("acme")])
        #expect(history.record([], at: start + .seconds(4), limits: limits).changes.isEmpty)
    }
}
