import Approvals
import Foundation
import Gate
import GateCore
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

/// Submissions that arrive while another is being written share the next statement
/// and commit; each still gets its own job, approval and audit rows, and one refused
/// job does not fail the others.
@Suite struct JobInsertBatcherTests {
    static func job(_ key: String, workspace: String = "acme") -> NewJob {
        NewJob(
            workspaceID: workspace, action: "task.create", params: ["title": .string("t-\(key)")],
            payloadHash: String(repeating: "a", count: 64), status: .pendingApproval, idempotencyKey: key,
            submittedByType: "api_key", submittedBy: "key1", actsFor: nil, callbackURL: nil, requiredApprovals: 1,
            approvalTimeoutSeconds: 3600)
    }

    /// Ids and request id named after `tag` (the key unless given).
    static func insert(_ key: String, workspace: String = "acme", tag: String? = nil) -> JobInsert {
        let tag = tag ?? key
        return JobInsert(
            job(key, workspace: workspace), id: "job_\(tag)", approvalID: "apr_\(tag)",
            actor: AuditActor(kind: .apiKey, id: "key1", ip: "10.0.0.1", requestID: "req-\(tag)"))
    }

    /// Runs `body` with a batcher that writes one batch at a time, whose first insert
    /// (key "first") is held by a lock on `jobs` until `body` returns: what `body`
    /// submits meanwhile queues up. Returns the first insert's outcome and those of the
    /// tasks `body` returns.
    static func withBlockedBatcher(
        _ db: TestDatabase, _ body: @escaping @Sendable (JobInsertBatcher) async throws -> [Task<JobStore.InsertOutcome, any Error>]
    ) async throws -> (first: JobStore.InsertOutcome, queued: [Result<JobStore.InsertOutcome, any Error>]) {
        try await db.withClient { client in
            let batcher = JobInsertBatcher(store: JobStore(client: client, logger: TestEnvironment.logger), maxInFlight: 1)
            let (locked, lockedNow) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseNow) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await client.withConnection { connection in
                    try await connection.query("BEGIN", logger: TestEnvironment.logger)
                    try await connection.query("LOCK TABLE jobs IN SHARE MODE", logger: TestEnvironment.logger)
                    lockedNow.yield()
                    for await _ in release { break }
                    try await connection.query("COMMIT", logger: TestEnvironment.logger)
                }
            }
            for await _ in locked { break }
            let first = Task { try await batcher.insert(insert("first")) }
            let tasks: [Task<JobStore.InsertOutcome, any Error>]
            do {
                try await waitUntil {
                    try await db.count(
                        "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
                        == 1
                }
                tasks = try await body(batcher)
            } catch {
                releaseNow.yield()
                throw error
            }
            releaseNow.yield()
            try await holder.value
            var queued: [Result<JobStore.InsertOutcome, any Error>] = []
            // Inside: the client must outlive the queued batch.
            for task in tasks { queued.append(await task.result) }
            return (try await first.value, queued)
        }
    }

    /// Submits `insert` and returns once it is queued behind the blocked batch.
    static func enqueue(_ insert: JobInsert, on batcher: JobInsertBatcher) async throws -> Task<JobStore.InsertOutcome, any Error> {
        let before = batcher.waitingCount
        let task = Task { try await batcher.insert(insert) }
        try await waitUntil { batcher.waitingCount == before + 1 }
        return task
    }

    static func waitUntil(_ condition: @Sendable () async throws -> Bool) async throws {
        guard try await eventually(every: .milliseconds(10), condition) else {
            Issue.record("condition not met within 5 s")
            throw CancellationError()
        }
    }

    static func created(_ outcome: JobStore.InsertOutcome?) -> JobRecord? {
        if case .created(let job)? = outcome { return job }
        return nil
    }

    @Test func submissionsArrivingDuringAWriteShareTheNextCommit() async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            let (first, queued) = try await Self.withBlockedBatcher(db) { batcher in
                // k1 twice: the second of one key in a batch finds the first's job.
                var tasks: [Task<JobStore.InsertOutcome, any Error>] = []
                for (key, tag) in [("k1", "k1"), ("k2", "k2"), ("k3", "k3"), ("k1", "k1again")] {
                    tasks.append(try await Self.enqueue(Self.insert(key, tag: tag), on: batcher))
                }
                return tasks
            }
            let outcomes = try queued.map { try $0.get() }

            let firstJob = try #require(Self.created(first))
            let jobs = outcomes.prefix(3).compactMap(Self.created)
            try #require(jobs.count == 3)
            #expect(jobs.map(\.idempotencyKey) == ["k1", "k2", "k3"])
            #expect(jobs.allSatisfy { $0.status == .pendingApproval && $0.requiredApprovals == 1 })
            #expect(outcomes[3] == .existing(jobs[0]))
            // One commit for the four queued submissions: they share the transaction's time.
            #expect(Set(jobs.map(\.createdAt)).count == 1)
            #expect(jobs[0].createdAt != firstJob.createdAt)
            #expect(try await db.count("SELECT count(*)::int FROM jobs") == 4)
            #expect(try await db.count("SELECT count(*)::int FROM approvals WHERE status = 'pending'") == 4)

            // Each job's own audit rows, in submission order, each with its request's id.
            let expected = ["first", "k1", "k2", "k3"].flatMap { tag in
                ["job.submitted job job_\(tag) req-\(tag)", "approval.requested approval apr_\(tag) req-\(tag)"]
            }
            let rows = try await db.withClient { client in
                var rows: [String] = []
                let query: PostgresQuery = """
                    SELECT action || ' ' || target_type || ' ' || target_id || ' ' || request_id FROM audit_events
                    WHERE actor_id = 'key1' AND actor_ip = '10.0.0.1' ORDER BY seq
                    """
                for try await row in try await client.query(query, logger: TestEnvironment.logger).decode(String.self) {
                    rows.append(row)
                }
                return rows
            }
            #expect(rows == expected)
            #expect(try await db.count("SELECT count(*)::int FROM approvals WHERE id = 'apr_' || substr(job_id, 5)") == 4)
            #expect(try await db.count("""
                SELECT count(*)::int FROM audit_events
                WHERE action = 'job.submitted' AND details = jsonb_build_object('action', 'task.create',
                    'payload_hash', repeat('a', 64), 'status', 'pending_approval', 'required_approvals', 1)
                """) == 4)
        }
    }

    @Test func aRefusedJobDoesNotFailTheOthersInItsBatch() async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            let (_, outcomes) = try await Self.withBlockedBatcher(db) { batcher in
                var tasks: [Task<JobStore.InsertOutcome, any Error>] = []
                for (key, workspace) in [("a", "acme"), ("b", "ghost"), ("c", "acme")] {
                    tasks.append(try await Self.enqueue(Self.insert(key, workspace: workspace), on: batcher))
                }
                return tasks
            }
            #expect(Self.created(try outcomes[0].get())?.idempotencyKey == "a")
            #expect(Self.created(try outcomes[2].get())?.idempotencyKey == "c")
            // The job whose workspace does not exist: the foreign key refuses it alone.
            do {
                _ = try outcomes[1].get()
                Issue.record("a job for a missing workspace was written")
            } catch let error as PSQLError {
                #expect(error.serverInfo?[.sqlState] == "23503")
            }
            #expect(try await db.count("SELECT count(*)::int FROM jobs WHERE idempotency_key IN ('a', 'c')") == 2)
            #expect(try await db.count("SELECT count(*)::int FROM jobs WHERE workspace_id = 'ghost'") == 0)
            #expect(try await db.count("SELECT count(*)::int FROM audit_events WHERE request_id = 'req-b'") == 0)
            #expect(try await db.count("SELECT count(*)::int FROM audit_events WHERE request_id IN ('req-a', 'req-c')") == 4)
        }
    }

    @Test func aSubmissionGivenUpWhileWaitingIsNotWritten() async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            let (_, outcomes) = try await Self.withBlockedBatcher(db) { batcher in
                let abandoned = try await Self.enqueue(Self.insert("gone"), on: batcher)
                abandoned.cancel()
                // Not awaited here: a submission that stayed queued would wait for the lock.
                try await Self.waitUntil { batcher.waitingCount == 0 }
                return [abandoned]
            }
            #expect(throws: CancellationError.self) { try outcomes[0].get() }
            #expect(try await db.count("SELECT count(*)::int FROM jobs WHERE idempotency_key = 'gone'") == 0)
            #expect(try await db.count("SELECT count(*)::int FROM jobs WHERE idempotency_key = 'first'") == 1)
        }
    }
}

/// A batch whose statement never returns (a query sent on a connection that closed as
/// Postgres restarted) must not hold its slot for good: before `limit`, every later
/// call waited behind it, and submissions answered 503 until the process restarted.
@Suite struct BatcherLimitTests {
    @Test func aBatchThatNeverReturnsGivesUpItsSlotAtTheLimit() async throws {
        let hung = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let batcher = Batcher<Int, Int>(
            maxInFlight: 1, maxBatch: 1,
            limit: { batch in try await withTimeout(.milliseconds(200), dependency: "postgres", batch) }
        ) { inputs in
            // Input 0 hangs, deaf to cancellation, until the test ends.
            if inputs == [0] { await withCheckedContinuation { continuation in hung.withLockedValue { $0 = continuation } } }
            return inputs.map { .success($0 * 10) }
        }
        await #expect(throws: DependencyTimeout.self) { try await batcher.submit(0) }
        let answer = NIOLockedValueBox<Int?>(nil)
        let second = Task {
            let value = try? await batcher.submit(1)
            answer.withLockedValue { $0 = value }
        }
        // Without the limit it would wait for the hung batch, for good.
        #expect(try await eventually(within: .seconds(10)) { answer.withLockedValue { $0 } == 10 })
        hung.withLockedValue { $0?.resume() }
        await second.value
    }
}
