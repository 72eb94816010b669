import Foundation
import Gate
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import Approvals
@testable import GateAPI
@testable import Persistence

extension AuthFixture {
    func reviewer(_ sub: String, scopes: [String] = ["approvals:read", "approvals:decide", "jobs:read"]) async throws -> String {
        try await identity.token(TestIdentity.claims(sub: sub, ws: ["acme": scopes]))
    }

    func gate(_ client: any TestClientProtocol, approvals: Int = 1, timeout: Int = 3600) async throws {
        let response = try await client.execute(
            uri: "/v1/workspaces/acme/policies/gmail.send", method: .put, headers: bearer(adminKey),
            body: ByteBuffer(string: #"{"approval":"required","required_approvals":\#(approvals),"approval_timeout_seconds":\#(timeout)}"#))
        precondition(response.status == .ok)
    }

    /// Submits an email job; returns (job id, approval id, payload hash).
    func pendingEmail(_ client: any TestClientProtocol, key: String = UUID().uuidString) async throws -> (String, String, String) {
        let job = try await submit(client, key: key, body: emailBody)
        precondition(job.status == .created, String(buffer: job.body))
        let jobID = job.json["id"] as! String
        let approvalID = try await db.withClient { client in
            let rows = try await client.query("SELECT id FROM approvals WHERE job_id = \(jobID)")
            for try await (id) in rows.decode(String.self) { return id }
            return ""
        }
        return (jobID, approvalID, job.json["payload_hash"] as! String)
    }

    func decide(_ client: any TestClientProtocol, _ verb: String, _ approvalID: String, as credential: String, body: String = "{}")
        async throws -> TestResponse
    {
        try await client.execute(
            uri: "/v1/workspaces/acme/approvals/\(approvalID)/\(verb)", method: .post, headers: bearer(credential),
            body: ByteBuffer(string: body))
    }

    func job(_ client: any TestClientProtocol, _ id: String) async throws -> [String: Any] {
        try await client.execute(uri: "/v1/workspaces/acme/jobs/\(id)", method: .get, headers: bearer(adminKey)).json
    }
}

@Suite struct ApprovalGateTests {
    @Test func quorumOfTwoNeedsTwoDistinctReviewers() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            try await fixture.gate(client, approvals: 2)
            let (jobID, approvalID, hash) = try await fixture.pendingEmail(client)
            let alice = try await fixture.reviewer("alice")
            let bob = try await fixture.reviewer("bob")

            let detail = try await client.execute(uri: "/v1/workspaces/acme/approvals/\(approvalID)", method: .get, headers: bearer(alice))
            #expect(detail.status == .ok)
            #expect(detail.json["payload_hash"] as? String == hash)
            let preview = detail.json["preview"] as? [String: Any]
            #expect((preview?["headers"] as? [String])?.contains("Subject: Quarterly report") == true)

            let first = try await fixture.decide(client, "approve", approvalID, as: alice, body: #"{"comment":"ok","payload_hash":"\#(hash)"}"#)
            #expect(first.status == .ok)
            #expect(first.json["status"] as? String == "pending")
            #expect(first.json["approvals"] as? Int == 1)
            // The same reviewer again: idempotent, still one approval.
            let repeated = try await fixture.decide(client, "approve", approvalID, as: alice)
            #expect(repeated.status == .ok && repeated.json["approvals"] as? Int == 1)
            #expect(try await fixture.job(client, jobID)["status"] as? String == "pending_approval")

            let second = try await fixture.decide(client, "approve", approvalID, as: bob)
            #expect(second.json["status"] as? String == "approved")
            #expect(try await fixture.job(client, jobID)["status"] as? String == "approved")
            // Decided: a late rejection conflicts.
            #expect(try await fixture.decide(client, "reject", approvalID, as: try await fixture.reviewer("carol"), body: #"{"reason":"no"}"#).status == .conflict)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.voted'") == 2)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.granted'") == 1)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.requested'") == 1)
        }
    }

    /// Two reviewers of a quorum of two vote at the same moment: a vote counted on a read
    /// taken before the other vote committed must not be written (it reads again), so
    /// every approval ends granted, once, with both votes and the audit rows in order.
    @Test func simultaneousQuorumVotesGrantEachApprovalOnce() async throws {
        try await AuthFixture.with(concurrent: true) { fixture, client in
            try await fixture.allowBothActions(client)
            try await fixture.gate(client, approvals: 2)
            let alice = try await fixture.reviewer("alice")
            let bob = try await fixture.reviewer("bob")
            var approvalIDs: [String] = []
            for _ in 0..<12 { approvalIDs.append(try await fixture.pendingEmail(client).1) }
            let results = try await withThrowingTaskGroup(of: (String, Int, String?).self) { group in
                for id in approvalIDs {
                    for reviewer in [alice, bob] {
                        group.addTask {
                            let response = try await fixture.decide(client, "approve", id, as: reviewer)
                            return (id, Int(response.status.code), response.json["status"] as? String)
                        }
                    }
                }
                var results: [(String, Int, String?)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(results.allSatisfy { $0.1 == 200 })
            for id in approvalIDs {
                // One of the two answers says approved, the other pending.
                #expect(results.filter { $0.0 == id }.compactMap(\.2).sorted() == ["approved", "pending"])
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM approvals WHERE status = 'approved'") == 12)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE status = 'approved'") == 12)
            #expect(try await fixture.count("SELECT count(*)::int FROM approval_votes") == 24)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.granted'") == 12)
            // Per approval: voted, voted, granted — the grant after both votes.
            #expect(try await fixture.count("""
                SELECT count(*)::int FROM audit_events g WHERE g.action = 'approval.granted'
                  AND g.seq > ALL (SELECT v.seq FROM audit_events v WHERE v.action = 'approval.voted' AND v.target_id = g.target_id)
                """) == 12)
        }
    }

    /// The race above, made deterministic at the store: a vote counted on a read that
    /// another vote has since overtaken writes nothing (else bob's vote would be counted
    /// without alice's and the approval left pending for good), and neither does one read
    /// before the deadline and written after it. Both then succeed by reading again.
    @Test func aVoteCountedOnAStaleReadWritesNothing() async throws {
        try await AuthFixture.with(environment: ["BACKGROUND_WORKERS": "false"]) { fixture, client in
            try await fixture.allowBothActions(client)
            try await fixture.gate(client, approvals: 2)
            let (jobID, approvalID, _) = try await fixture.pendingEmail(client)
            let (_, lateID, _) = try await fixture.pendingEmail(client)
            try await fixture.db.withClient { postgres in
                let store = ApprovalStore(client: postgres, logger: TestEnvironment.logger)
                let actor = AuditActor(kind: .user, id: "bob")
                let bob = Reviewer(principal: "user:bob", person: "bob")
                let vote = VoteOnApproval(store: store)
                func bobsVote(on state: ApprovalBallot) -> VoteWrite {
                    VoteWrite(
                        approval: state.approval, version: state.version, decision: .approve, reviewer: bob, comment: nil,
                        payloadHashSeen: nil, newStatus: .pending, approvals: 1, reason: nil, reasonCode: nil, actor: actor)
                }

                let stale = try #require(try await store.ballot(workspaceID: "acme", id: approvalID))
                #expect(stale.approval.votes.isEmpty)
                let alice = try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("alice"))
                #expect(alice.json["status"] as? String == "pending")
                #expect(try await store.record(bobsVote(on: stale)) == nil)
                #expect(try await fixture.count("SELECT count(*)::int FROM approval_votes WHERE reviewer = 'user:bob'") == 0)
                #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.voted'") == 1)
                let outcome = try await vote(
                    VoteOnApproval.Ballot(decision: .approve, comment: nil), on: approvalID, in: "acme", by: bob, actor: actor)
                guard case .changed(let approval)? = outcome else { Issue.record("bob's vote: \(String(describing: outcome))"); return }
                #expect(approval.status == .approved && approval.votes.map(\.reviewer) == ["user:alice", "user:bob"])
                #expect(try await fixture.job(client, jobID)["status"] as? String == "approved")

                let beforeDeadline = try #require(try await store.ballot(workspaceID: "acme", id: lateID))
                try await fixture.execute("UPDATE approvals SET expires_at = clock_timestamp() - interval '1 second' WHERE id = '\(lateID)'")
                #expect(try await store.record(bobsVote(on: beforeDeadline)) == nil)
                let late = try await vote(
                    VoteOnApproval.Ballot(decision: .approve, comment: nil), on: lateID, in: "acme", by: bob, actor: actor)
                guard case .refused(.expired, let expired)? = late else { Issue.record("late vote: \(String(describing: late))"); return }
                #expect(expired.status == .expired)
                #expect(try await fixture.count("SELECT count(*)::int FROM approval_votes WHERE approval_id = '\(lateID)'") == 0)
            }
        }
    }

    @Test func nobodyApprovesTheirOwnJob() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (_, approvalID, _) = try await fixture.pendingEmail(client)
            // The submitting key itself (keys cannot hold approvals:decide) …
            #expect(try await fixture.decide(client, "approve", approvalID, as: fixture.adminKey).status == .forbidden)
            // … and the person it acts for.
            let owner = try await fixture.reviewer("admin-person")
            #expect(try await fixture.decide(client, "approve", approvalID, as: owner).status == .forbidden)
            #expect(try await fixture.auditRows(action: "approval.vote_refused").compactMap(\.2) == ["own_job"])
            #expect(try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("alice")).status == .ok)
        }
    }

    @Test func oneRejectionRejectsAndTheReasonReachesTheAgent() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            try await fixture.gate(client, approvals: 2)
            let (jobID, approvalID, _) = try await fixture.pendingEmail(client)
            #expect(try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("alice")).status == .ok)
            #expect(try await fixture.decide(client, "reject", approvalID, as: try await fixture.reviewer("bob"), body: #"{"reason":""}"#).status == .unprocessableContent)
            let rejected = try await fixture.decide(client, "reject", approvalID, as: try await fixture.reviewer("bob"), body: #"{"reason":"Wrong recipient","code":"recipient"}"#)
            #expect(rejected.status == .ok && rejected.json["status"] as? String == "rejected")
            let job = try await fixture.job(client, jobID)
            #expect(job["status"] as? String == "rejected")
            #expect(job["status_reason"] as? String == "Wrong recipient")
            #expect(job["status_code"] as? String == "recipient")
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.rejected'") == 1)
        }
    }

    @Test func aDifferentPayloadHashIsAConflict() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (_, approvalID, hash) = try await fixture.pendingEmail(client)
            let alice = try await fixture.reviewer("alice")
            let stale = String(repeating: "0", count: 64)
            #expect(try await fixture.decide(client, "approve", approvalID, as: alice, body: #"{"payload_hash":"\#(stale)"}"#).status == .conflict)
            #expect(try await fixture.decide(client, "approve", approvalID, as: alice, body: #"{"payload_hash":"\#(hash)"}"#).status == .ok)
        }
    }

    @Test func decidingAfterTheDeadlineIs409EvenBeforeTheSweeper() async throws {
        try await AuthFixture.with(environment: ["BACKGROUND_WORKERS": "false"]) { fixture, client in
            try await fixture.allowBothActions(client)
            try await fixture.gate(client, timeout: 1)
            let (jobID, approvalID, _) = try await fixture.pendingEmail(client)
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await fixture.job(client, jobID)["status"] as? String == "pending_approval")
            let late = try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("alice"))
            #expect(late.status == .conflict)
            // Deny by default: the late vote expired it on the spot.
            #expect(try await fixture.job(client, jobID)["status"] as? String == "expired")
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.expired'") == 1)
        }
    }

    @Test func approveRacingExpiryNeverYieldsBothOutcomes() async throws {
        try await AuthFixture.with(environment: ["BACKGROUND_WORKERS": "false", "RATE_LIMIT_BURST": "100000", "APPROVALS_RATE_LIMIT_PER_MINUTE": "1000000"], concurrent: true) { fixture, client in
            try await fixture.allowBothActions(client)
            var created: [String] = []
            for _ in 0..<200 { created.append(try await fixture.pendingEmail(client).1) }
            let approvals = created
            let alice = try await fixture.reviewer("alice")
            // Each chunk of 25 is voted in order, 8 chunks at once. Its first approval is
            // already past its deadline and its last one an hour away, so both outcomes
            // happen however loaded the machine is; the 23 between get deadlines spread
            // over the time their votes should take (8 vote-times apart, from a timed
            // vote), so the sweeper and the votes really race on them. The vote timed is
            // the second: the first also prepares the vote's statements on its connection.
            let (_, coldVote, _) = try await fixture.pendingEmail(client)
            _ = try await fixture.decide(client, "approve", coldVote, as: alice)
            let (_, warmVote, _) = try await fixture.pendingEmail(client)
            let timing = ContinuousClock.now
            _ = try await fixture.decide(client, "approve", warmVote, as: alice)
            let oneVote = ContinuousClock.now - timing
            let chunkSize = 25
            let spread = oneVote * 8 * chunkSize
            var deadlines: [String] = []
            for (index, id) in approvals.enumerated() {
                let position = index % chunkSize
                let milliseconds: Int
                switch position {
                case 0: milliseconds = -1000
                case chunkSize - 1: milliseconds = 3_600_000
                default: milliseconds = 200 + Int((spread * (position - 1) / (chunkSize - 2)).milliseconds)
                }
                deadlines.append("('\(id)', \(milliseconds))")
            }
            try await fixture.execute("""
                UPDATE approvals a SET expires_at = clock_timestamp() + d.ms * interval '1 millisecond'
                FROM (VALUES \(deadlines.joined(separator: ", "))) AS d(id, ms) WHERE a.id = d.id
                """)
            let sweepFor = max(.seconds(3), (.milliseconds(200) + spread) * 3)
            let answers = try await fixture.db.withClient { postgres in
                let sweeper = ApprovalStore(client: postgres, logger: TestEnvironment.logger)
                return try await withThrowingTaskGroup(of: [String: HTTPResponse.Status].self) { group in
                    // A sweeper running flat out while every approval is voted on around its deadline.
                    group.addTask {
                        let end = ContinuousClock.now + sweepFor
                        while ContinuousClock.now < end { _ = try await sweeper.expireDue(limit: 20) }
                        return [:]
                    }
                    for chunk in stride(from: 0, to: approvals.count, by: chunkSize) {
                        let ids = Array(approvals[chunk..<min(chunk + chunkSize, approvals.count)])
                        group.addTask {
                            try await Task.sleep(for: .milliseconds(200))
                            var statuses: [String: HTTPResponse.Status] = [:]
                            for id in ids { statuses[id] = try await fixture.decide(client, "approve", id, as: alice).status }
                            return statuses
                        }
                    }
                    var all: [String: HTTPResponse.Status] = [:]
                    for try await part in group { all.merge(part) { $1 } }
                    return all
                }
            }
            #expect(answers.count == 200)
            let outcomes = try await fixture.db.withClient { postgres in
                let rows = try await postgres.query("""
                    SELECT a.id, a.status,
                           (SELECT count(*)::int FROM audit_events e WHERE e.target_id = a.id AND e.action IN ('approval.granted', 'approval.expired'))
                    FROM approvals a
                    """)
                var result: [String: (String, Int)] = [:]
                for try await (id, status, events) in rows.decode((String, String, Int).self) { result[id] = (status, events) }
                return result
            }
            var granted = 0
            for id in approvals {
                let (status, events) = try #require(outcomes[id])
                #expect(events == 1, "\(id) has \(events) outcome events")
                switch answers[id] {
                case .ok?:
                    #expect(status == "approved")
                    granted += 1
                case .conflict?: #expect(status == "expired")
                default: Issue.record("unexpected answer \(String(describing: answers[id]))")
                }
            }
            // Both outcomes happened (the first and last of each chunk make sure of it).
            #expect(granted >= 8 && granted <= 192, "granted \(granted)")
        }
    }

    @Test func twoInstancesExpireEachApprovalExactlyOnce() async throws {
        try await AuthFixture.with(environment: ["SWEEP_INTERVAL_MS": "50"]) { fixture, client in
            try await fixture.allowBothActions(client)
            try await fixture.gate(client, timeout: 1)
            let environment = fixture.identity.environment.merging(["SWEEP_INTERVAL_MS": "50"]) { $1 }
            try await withTestApp(databaseURL: fixture.db.url, environment: environment) { second in
                var jobs: [String] = []
                for _ in 0..<30 { jobs.append(try await fixture.pendingEmail(client).0) }
                try await Task.sleep(for: .milliseconds(2500))
                #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE status = 'expired'") == 30)
                #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.expired'") == 30)
                #expect(try await fixture.count("SELECT count(DISTINCT target_id)::int FROM audit_events WHERE action = 'approval.expired'") == 30)
                let answer = try await second.execute(uri: "/v1/workspaces/acme/jobs/\(jobs[0])", method: .get, headers: bearer(fixture.adminKey))
                #expect(answer.json["status_reason"] as? String == "approval expired")
                // Each replica counts what it expired; together, exactly the 30.
                var expired = 0.0
                for replica in [client, second] {
                    let text = String(buffer: try await replica.execute(uri: "/metrics", method: .get).body)
                    let line = text.split(separator: "\n").first { $0.hasPrefix("gateapi_approvals_expired_total ") }
                    expired += line.flatMap { Double($0.split(separator: " ").last!) } ?? 0
                }
                #expect(expired == 30)
            }
        }
    }

    /// The sweep runs every second in every replica: it must read the approvals that
    /// are due, not every pending one (`clock_timestamp()`, being volatile, could not
    /// bound the index scan: 3,000 pending approvals read to expire one).
    @Test func theExpirySweepReadsOnlyTheApprovalsThatAreDue() async throws {
        // No background sweeper: the statement under test does the expiring.
        try await AuthFixture.with(environment: ["BACKGROUND_WORKERS": "false"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let (dueJob, dueApproval, _) = try await fixture.pendingEmail(client)
            try await fixture.execute("UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = '\(dueApproval)'")
            // 3,000 more, due in an hour: copies of the due one's rows.
            try await fixture.execute("""
                INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key,
                                  submitted_by_type, submitted_by, acts_for, expires_at)
                SELECT 'bulk-' || g, workspace_id, action, params, payload_hash, status, 'bulk-' || g,
                       submitted_by_type, submitted_by, acts_for, now() + interval '1 hour'
                FROM jobs, generate_series(1, 3000) AS g WHERE id = '\(dueJob)'
                """)
            try await fixture.execute("""
                INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at)
                SELECT 'bulk-' || g, workspace_id, 'bulk-' || g, action, status, payload_hash, required_approvals,
                       now() + interval '1 hour' + g * interval '1 millisecond'
                FROM approvals, generate_series(1, 3000) AS g WHERE id = '\(dueApproval)'
                """)
            try await fixture.execute("ANALYZE approvals")

            let plan = try await fixture.explainAnalyze(ApprovalStore.expireDueStatement(limit: 100))
            #expect(plan.rows == 1)
            #expect(plan.touched < 100, "\(plan.text)")
            // And it did its job: the due one expired and audited, the rest untouched.
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE id = '\(dueJob)' AND status = 'expired'") == 1)
            #expect(try await fixture.count("SELECT count(*)::int FROM approvals WHERE status = 'pending'") == 3000)
            #expect(
                try await fixture.count(
                    "SELECT count(*)::int FROM audit_events WHERE action = 'approval.expired' AND target_id = '\(dueApproval)'") == 1)
        }
    }

    /// The race tests rely on the `concurrent` test client sending requests at once: two
    /// 4 s long polls sent together end after ~4 s, not 8 (one connection serializes them).
    @Test func theTestClientRunsRequestsAtOnce() async throws {
        try await AuthFixture.with(concurrent: true) { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, _, _) = try await fixture.pendingEmail(client)
            let started = ContinuousClock.now
            async let first = client.execute(uri: "/v1/workspaces/acme/jobs/\(jobID)?wait=4", method: .get, headers: bearer(fixture.adminKey))
            async let second = client.execute(uri: "/v1/workspaces/acme/jobs/\(jobID)?wait=4", method: .get, headers: bearer(fixture.adminKey))
            for response in try await [first, second] { #expect(response.json["status"] as? String == "pending_approval") }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .seconds(4) && elapsed < .seconds(7), "\(elapsed)")
        }
    }

    @Test func eventStreamAndLongPollSeeADecisionMadeOnAnotherInstance() async throws {
        try await AuthFixture.with(concurrent: true) { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, approvalID, _) = try await fixture.pendingEmail(client)
            let (jobID2, approvalID2, _) = try await fixture.pendingEmail(client)
            let alice = try await fixture.reviewer("alice")
            try await withTestApp(databaseURL: fixture.db.url, environment: fixture.identity.environment) { other in
                async let streamed = client.execute(
                    uri: "/v1/workspaces/acme/jobs/\(jobID)/events", method: .get, headers: bearer(fixture.adminKey))
                async let polled = { () async throws -> (TestResponse, ContinuousClock.Instant) in
                    let response = try await client.execute(
                        uri: "/v1/workspaces/acme/jobs/\(jobID2)?wait=20", method: .get, headers: bearer(fixture.adminKey))
                    return (response, ContinuousClock.now)
                }()
                try await Task.sleep(for: .milliseconds(1000))
                #expect(try await fixture.decide(other, "reject", approvalID, as: alice, body: #"{"reason":"not today"}"#).status == .ok)
                #expect(try await fixture.decide(other, "approve", approvalID2, as: alice).status == .ok)
                let decided = ContinuousClock.now

                let stream = try await streamed
                #expect(stream.status == .ok)
                #expect(stream.headers[.contentType] == "text/event-stream")
                let events = String(buffer: stream.body).components(separatedBy: "\n\n").filter { $0.contains("event: job") }
                // The state when the stream opened (pending, unless a very slow machine opened
                // it after the decision), then the decision; the stream ends at the terminal state.
                #expect((1...2).contains(events.count))
                if events.count == 2 { #expect(events.first?.contains(#""status":"pending_approval""#) == true) }
                #expect(events.last?.contains(#""status":"rejected""#) == true)
                #expect(events.last?.contains("not today") == true)

                let (poll, answered) = try await polled
                #expect(poll.json["status"] as? String == "approved")
                // Answered soon after the decision (by its notification, or at worst the
                // 2 s re-read), not at the 20 s limit.
                #expect(answered - decided < .seconds(5))
            }
            // A job already past the awaited status answers at once.
            let immediate = try await client.execute(
                uri: "/v1/workspaces/acme/jobs/\(jobID2)?wait=20&status=pending_approval", method: .get, headers: bearer(fixture.adminKey))
            #expect(immediate.json["status"] as? String == "approved")
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs/\(jobID2)?wait=61", method: .get, headers: bearer(fixture.adminKey)).status == .badRequest)
        }
    }

    /// Every replica learns of a decision from `gateapi_jobs` (delivered when it
    /// commits): the job's key, the executors' wake-up, as the job became runnable, and
    /// the workspace's approvals key.
    @Test func aDecisionIsAnnouncedOnTheJobsChannel() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let (jobID, approvalID, _) = try await fixture.pendingEmail(client)
            let alice = try await fixture.reviewer("alice")
            let payloads = try await fixture.db.withClient { postgres in
                try await postgres.withConnection { connection in
                    // Without an announcement the stream would wait forever: closing the
                    // connection ends it, and the test fails on the error.
                    let watchdog = Task {
                        try await Task.sleep(for: .seconds(10))
                        try await connection.close()
                    }
                    defer { watchdog.cancel() }
                    return try await connection.listen(on: jobEventsChannel) { notifications in
                        #expect(try await fixture.decide(client, "approve", approvalID, as: alice).status == .ok)
                        var seen: Set<String> = []
                        for try await notification in notifications {
                            seen.insert(notification.payload)
                            if seen.count == 3 { break }
                        }
                        return seen
                    }
                }
            }
            // And the console's live queue learns that an approval left it (migration 0020).
            #expect(payloads == ["acme:\(jobID)", "*runnable", "acme:approvals"])
        }
    }

    @Test func cancelBySubmitterOrAdminWhilePending() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let agent = try await client.execute(
                uri: "/v1/workspaces/acme/api-keys", method: .post, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"name":"agent","scopes":["jobs:write","jobs:read"]}"#))
            let agentKey = try #require(agent.json["key"] as? String)
            let other = try await client.execute(
                uri: "/v1/workspaces/acme/api-keys", method: .post, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"name":"other agent","scopes":["jobs:write","jobs:read"]}"#))
            let otherKey = try #require(other.json["key"] as? String)

            let job = try await fixture.submit(client, key: "to-cancel", body: emailBody, credential: agentKey)
            let jobID = try #require(job.json["id"] as? String)
            let cancelURI = "/v1/workspaces/acme/jobs/\(jobID)/cancel"
            #expect(try await client.execute(uri: cancelURI, method: .post, headers: bearer(otherKey)).status == .forbidden)
            let cancelled = try await client.execute(uri: cancelURI, method: .post, headers: bearer(agentKey))
            #expect(cancelled.status == .ok && cancelled.json["status"] as? String == "cancelled")
            #expect(try await client.execute(uri: cancelURI, method: .post, headers: bearer(agentKey)).status == .ok)
            #expect(try await fixture.count("SELECT count(*)::int FROM approvals WHERE status = 'cancelled'") == 1)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.cancelled'") == 1)
            #expect(try await fixture.auditRows(action: "job.cancel_refused").compactMap(\.2) == ["not_submitter"])

            // An admin may cancel anyone's pending job; a decided job cannot be cancelled.
            let second = try await fixture.submit(client, key: "admin-cancels", body: emailBody, credential: agentKey)
            let secondID = try #require(second.json["id"] as? String)
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs/\(secondID)/cancel", method: .post, headers: bearer(fixture.adminKey)).status == .ok)
            let (approvedJob, approvalID, _) = try await fixture.pendingEmail(client)
            _ = try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("alice"))
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs/\(approvedJob)/cancel", method: .post, headers: bearer(fixture.adminKey)).status == .conflict)
        }
    }

    @Test func reviewerQueueAndHistory() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try await fixture.pendingEmail(client).1) }
            // The middle one expires first.
            try await fixture.execute("UPDATE approvals SET expires_at = now() + interval '10 minutes' WHERE id = '\(ids[1])'")
            let alice = try await fixture.reviewer("alice")
            let queue = try await client.execute(uri: "/v1/workspaces/acme/approvals?limit=2", method: .get, headers: bearer(alice))
            let first = (queue.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(first == [ids[1], ids[0]])
            let cursor = try #require(queue.json["next_cursor"] as? String)
            let rest = try await client.execute(uri: "/v1/workspaces/acme/approvals?cursor=\(cursor)", method: .get, headers: bearer(alice))
            #expect((rest.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == [ids[2]])
            _ = try await fixture.decide(client, "reject", ids[0], as: alice, body: #"{"reason":"no"}"#)
            let history = try await client.execute(uri: "/v1/workspaces/acme/approvals?status=decided", method: .get, headers: bearer(alice))
            #expect((history.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == [ids[0]])
            let emails = try await client.execute(uri: "/v1/workspaces/acme/approvals?status=decided&action=gmail.send", method: .get, headers: bearer(alice))
            #expect((emails.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == [ids[0]])
            // U+0000 cannot be stored with a vote (this was a 500): a 422 that names the field.
            for (verb, body, field) in [
                ("approve", #"{"comment":"a\u0000"}"#, "comment"), ("reject", #"{"reason":"a\u0000"}"#, "reason"),
                ("reject", #"{"reason":"a","code":"\u0000"}"#, "code"),
            ] {
                let refused = try await fixture.decide(client, verb, ids[2], as: alice, body: body)
                #expect(refused.status == .unprocessableContent, "\(body)")
                #expect((refused.json["errors"] as? [[String: String]])?.first?["field"] == field)
            }
            // An unknown action is a 400, as in the job listing (not an empty page).
            #expect(try await client.execute(uri: "/v1/workspaces/acme/approvals?action=AAA", method: .get, headers: bearer(alice)).status == .badRequest)
            // Reading needs approvals:read; deciding needs approvals:decide.
            let reader = try await fixture.reviewer("reader", scopes: ["approvals:read"])
            #expect(try await fixture.decide(client, "approve", ids[2], as: reader).status == .forbidden)
            #expect(try await client.execute(uri: "/v1/workspaces/acme/approvals/apr_nonexistent", method: .get, headers: bearer(alice)).status == .notFound)
        }
    }

    /// The history cap ranks every workspace's terminal jobs each minute in every
    /// replica: from the `jobs_history` index. Without it, the jobs themselves were read
    /// (at random, in another index's order) and sorted: ~2 GB per pass at a million
    /// history rows.
    @Test func theHistoryCapRanksFromItsIndex() async throws {
        try await AuthFixture.with(environment: ["BACKGROUND_WORKERS": "false"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let model = try #require(try await fixture.submit(client, key: "model", body: taskBody).json["id"] as? String)
            // 10,000 history rows in each of two workspaces, every terminal status.
            try await fixture.execute("""
                INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key,
                                  submitted_by_type, submitted_by)
                SELECT 'bulk-' || lpad(g::text, 6, '0'), (ARRAY['acme', 'other'])[1 + g % 2], action, params, payload_hash,
                       (ARRAY['succeeded', 'failed', 'rejected', 'expired', 'cancelled'])[1 + g % 5], 'bulk-' || g,
                       submitted_by_type, submitted_by
                FROM jobs, generate_series(1, 20000) AS g WHERE id = '\(model)'
                """)
            try await fixture.execute("ANALYZE jobs")

            // The ranking reads the 20,000 history rows from the index; the delete that
            // follows finds nothing to look up.
            let plan = try await fixture.explainAnalyze(JobStore.historyCapStatement(maxPerWorkspace: 10_000, batch: 500, idempotencyTTLSeconds: 86400))
            let reads = plan.nodes.filter { $0.relation == "jobs" && $0.type != "ModifyTable" }
            let ranking = reads.filter { $0.rows >= 20_000 }
            #expect(ranking.count == 1 && ranking.allSatisfy { $0.type == "Index Only Scan" && $0.index == "jobs_history" }, "\(plan.text)")
            #expect(reads.allSatisfy { $0.rows >= 20_000 || $0.rows <= 1 }, "\(plan.text)")
            // Nothing past the cap yet; one more history row in acme is.
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 20_001)
            try await fixture.db.moveJobs(where: "id = '\(model)'", to: "succeeded")
            let purged = try await fixture.db.withClient { postgres in
                try await JobStore(client: postgres, logger: TestEnvironment.logger)
                    .purgeHistory(ttlSeconds: 86400, maxPerWorkspace: 10_000, batch: 500, idempotencyTTLSeconds: 86400)
            }
            #expect(purged == 1)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE id = 'bulk-000002'") == 0)
        }
    }

    @Test func purgeRespectsTheTTLAndTheCapAndKeepsTheAuditLog() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            var jobs: [String] = []
            for i in 0..<6 { jobs.append(try await fixture.submit(client, key: "purge-\(i)", body: taskBody).json["id"] as! String) }
            let pending = try await fixture.pendingEmail(client).0
            // jobs[0] is old; jobs[1...5] recent; all six terminal.
            try await fixture.db.moveJobs(where: "action = 'task.create'", to: "succeeded")
            try await fixture.execute("UPDATE jobs SET updated_at = now() - interval '2 days' WHERE id = '\(jobs[0])'")
            let purged = try await fixture.db.withClient { postgres in
                try await JobStore(client: postgres, logger: TestEnvironment.logger).purgeHistory(ttlSeconds: 86400, maxPerWorkspace: 3, batch: 1, idempotencyTTLSeconds: 86400)
            }
            // jobs[0] by age, then jobs[1] and jobs[2] beyond the newest three; the pending job stays.
            #expect(purged == 3)
            for (index, id) in jobs.enumerated() {
                let status = try await client.execute(uri: "/v1/workspaces/acme/jobs/\(id)", method: .get, headers: bearer(fixture.adminKey)).status
                #expect(status == (index < 3 ? .notFound : .ok), "job \(index)")
            }
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs/\(pending)", method: .get, headers: bearer(fixture.adminKey)).status == .ok)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.submitted'") == 7)
        }
    }
}
