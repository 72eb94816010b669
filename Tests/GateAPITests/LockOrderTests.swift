import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// Writers that meet on the same rows take their locks in one order (a job's approval
/// before the job; a batch's idempotency keys sorted), so they wait for each other
/// instead of deadlocking, and a client never sees a 500 for a race it cannot see.
@Suite struct LockOrderTests {
    /// Issue 22: 60 pending jobs, each cancelled by its submitter and approved by a
    /// reviewer at the same moment, gave 6–14 answers of 500 ("deadlock detected").
    /// Every job must end in exactly one of the two outcomes, the answers and the audit
    /// log agreeing with it.
    @Test func cancelAndApproveAtOnceEndInExactlyOneOutcome() async throws {
        try await AuthFixture.with(
            environment: ["RATE_LIMIT_BURST": "100000", "APPROVALS_RATE_LIMIT_PER_MINUTE": "1000000"], concurrent: true
        ) { fixture, client in
            try await fixture.allowBothActions(client)
            let alice = try await fixture.reviewer("alice")
            var pending: [PendingJob] = []
            for _ in 0..<60 {
                let (job, approval, _) = try await fixture.pendingEmail(client)
                pending.append(PendingJob(job: job, approval: approval))
            }
            let answers = try await Self.cancelAndApprove(pending, fixture: fixture, client: client, reviewer: alice)
            #expect(answers.allSatisfy { $0.status == 200 || $0.status == 409 }, "\(answers.filter { $0.status != 200 && $0.status != 409 })")
            let final = try await Self.finalStates(fixture.db)
            var cancelled = 0
            var approved = 0
            for item in pending {
                let cancel = answers.first { $0.job == item.job && $0.verb == "cancel" }?.status
                let approve = answers.first { $0.job == item.job && $0.verb == "approve" }?.status
                let state = final[item.job] ?? "missing"
                if state == "cancelled/cancelled" {
                    cancelled += 1
                    #expect(cancel == 200 && approve == 409, "\(item.job): cancel \(String(describing: cancel)), approve \(String(describing: approve))")
                } else if state == "approved/approved" {
                    approved += 1
                    #expect(cancel == 409 && approve == 200, "\(item.job): cancel \(String(describing: cancel)), approve \(String(describing: approve))")
                } else {
                    Issue.record("\(item.job) ended as \(state) (job/approval)")
                }
            }
            #expect(cancelled + approved == 60)
            // One audit row per outcome, none for the one that did not happen.
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.cancelled'") == cancelled)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.granted'") == approved)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.voted'") == approved)
            #expect(try await fixture.count("""
                SELECT count(*)::int FROM audit_events c JOIN approvals a ON a.job_id = c.target_id
                JOIN audit_events g ON g.target_id = a.id AND g.action = 'approval.granted'
                WHERE c.action = 'job.cancelled'
                """) == 0)
        }
    }

    struct PendingJob: Sendable {
        let job: String
        let approval: String
    }

    struct Answer: Sendable, CustomStringConvertible {
        let job: String
        let verb: String
        let status: Int
        var description: String { "\(verb) \(job): \(status)" }
    }

    /// Each job cancelled by the admin key (its submitter) and approved by `reviewer`, all at once.
    static func cancelAndApprove(
        _ pending: [PendingJob], fixture: AuthFixture, client: any TestClientProtocol, reviewer: String
    ) async throws -> [Answer] {
        try await withThrowingTaskGroup(of: Answer.self) { group in
            for item in pending {
                group.addTask {
                    let response = try await client.execute(
                        uri: "/v1/workspaces/acme/jobs/\(item.job)/cancel", method: .post, headers: bearer(fixture.adminKey))
                    return Answer(job: item.job, verb: "cancel", status: Int(response.status.code))
                }
                group.addTask {
                    let response = try await fixture.decide(client, "approve", item.approval, as: reviewer)
                    return Answer(job: item.job, verb: "approve", status: Int(response.status.code))
                }
            }
            var answers: [Answer] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
    }

    /// "job status/approval status" by job id.
    static func finalStates(_ db: TestDatabase) async throws -> [String: String] {
        try await db.withClient { postgres in
            let rows = try await postgres.query("SELECT j.id, j.status || '/' || a.status FROM jobs j JOIN approvals a ON a.job_id = j.id")
            var states: [String: String] = [:]
            for try await (id, state) in rows.decode((String, String).self) { states[id] = state }
            return states
        }
    }

    /// Issue 22: two batch statements sharing idempotency keys (clients retrying a set
    /// of keys at once, each through its own replica's batch) took the keys in
    /// opposite orders and deadlocked. In key order one waits for the other; each key
    /// ends with exactly one job, created by one batch and found by the other.
    @Test func overlappingBatchesOfKeysNeverDeadlock() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await AuthFixture.seed(db)
            try await db.withClient { client in
                let store = JobStore(client: client, logger: TestEnvironment.logger)
                for round in 0..<30 {
                    let keys = (0..<32).map { "r\(round)-k\($0)" }
                    let forward = keys.map { JobInsertBatcherTests.insert($0, tag: "\($0)-a") }
                    let backward = keys.reversed().map { JobInsertBatcherTests.insert($0, tag: "\($0)-b") }
                    async let a = store.insert(forward)
                    async let b = store.insert(backward)
                    let (outcomesA, outcomesB) = try await (a, b)
                    for (key, (outcomeA, outcomeB)) in zip(keys, zip(outcomesA, outcomesB.reversed())) {
                        switch (try outcomeA.get(), try outcomeB.get()) {
                        case (.created(let job), .existing(let found)), (.existing(let found), .created(let job)):
                            #expect(job.id == found.id && job.idempotencyKey == key)
                        default:
                            Issue.record("\(key): \(outcomeA) and \(outcomeB)")
                        }
                    }
                }
            }
            #expect(try await db.count("SELECT count(*)::int FROM jobs") == 30 * 32)
            #expect(try await db.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.submitted'") == 30 * 32)
        }
    }
}
