import AsyncHTTPClient
import Foundation
import Gate
import NIOCore
import NIOHTTP1
import PostgresNIO
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// Two real `gate-api serve` processes on one Postgres and one Redis, as replicas run
/// behind a load balancer: whatever one replica does, the other sees, and the work
/// both of them may pick up (executions, expiry) happens exactly once.
@Suite struct ReplicaTests {
    /// One running `gate-api serve`.
    struct Replica {
        let process: ChildProcess
        let base: String
        /// Its stdout (the log) and stderr, in one file.
        let stderrPath: String

        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    }

    /// What both replicas share: the database (workspaces `acme` and `other`, an admin
    /// key acting for `admin-person`), the environment and an HTTP client.
    struct Cluster {
        let db: TestDatabase
        let adminKey: String
        let identity: TestIdentity
        let replicas: [Replica]
        let http: HTTPClient

        /// A reviewer who is not the admin key's person (separation of duties).
        func reviewer(_ sub: String = "rita") async throws -> String {
            try await identity.token(TestIdentity.claims(sub: sub, ws: ["acme": ["approvals:read", "approvals:decide", "jobs:read"]]))
        }

        func send(
            _ replica: Replica, _ method: HTTPMethod, _ path: String, credential: String? = nil, headers: [String: String] = [:],
            body: String? = nil
        ) async throws -> (status: Int, json: [String: Any]) {
            var request = HTTPClientRequest(url: replica.base + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(credential ?? adminKey)")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await http.execute(request, timeout: .seconds(10))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
            return (Int(response.status.code), json)
        }

        func submit(_ replica: Replica, _ body: String) async throws -> String {
            let answer = try await send(replica, .POST, "/v1/workspaces/acme/jobs", headers: ["Idempotency-Key": UUID().uuidString], body: body)
            try #require(answer.status == 201, "submit: \(answer)")
            return try #require(answer.json["id"] as? String)
        }

        func approve(_ replica: Replica, jobID: String, as reviewer: String) async throws {
            let approvalID = try await db.withClient { client in
                let rows = try await client.query("SELECT id FROM approvals WHERE job_id = \(jobID)")
                for try await (id) in rows.decode(String.self) { return id }
                return ""
            }
            let answer = try await send(
                replica, .POST, "/v1/workspaces/acme/approvals/\(approvalID)/approve", credential: reviewer, body: #"{"comment":"ok"}"#)
            try #require(answer.status == 200, "approve: \(answer)")
        }

        func count(_ sql: String) async throws -> Int { try await db.count(sql) }

        func setPolicy(_ action: String, _ body: String) async throws {
            let answer = try await send(replicas[0], .PUT, "/v1/workspaces/acme/policies/\(action)", body: body)
            try #require(answer.status == 200, "policy \(action): \(answer)")
        }

        /// Polls until `condition` holds, for at most `limit`.
        func eventually(within limit: Duration = .seconds(20), _ what: String, _ condition: () async throws -> Bool) async throws {
            guard try await GateAPITests.eventually(within: limit, condition) else { throw WaitTimedOut(what: what) }
        }
    }

    /// Starts `gate-api serve` and waits for `/ready`. The port was free when probed;
    /// another process on the machine may take it before the server binds, so a server
    /// that could not bind is tried again on another port (any other failure is not).
    static func start(environment: [String: String], name: String) async throws -> Replica {
        var failures: [String] = []
        for _ in 0..<3 {
            let port = try TestEnvironment.freePort()
            var environment = environment
            environment["PORT"] = String(port)
            let stderrPath = "\(TestEnvironment.serversDirectory)/replica-\(name)-\(UUID().uuidString).stderr"
            let process = try ChildProcess(
                [TestEnvironment.productsDirectory.appendingPathComponent("gate-api").path, "serve"],
                environment: environment, stdoutPath: stderrPath, stderrPath: stderrPath)
            let replica = Replica(process: process, base: "http://127.0.0.1:\(port)", stderrPath: stderrPath)
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline && process.isRunning {
                let request = HTTPClientRequest(url: "\(replica.base)/ready")
                if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)), response.status == .ok {
                    return replica
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            await process.stop()
            let stderr = replica.stderr
            failures.append("port \(port), exit \(String(describing: process.poll())):\n\(stderr.suffix(2000))")
            guard stderr.contains("Address already in use") else { break }
        }
        throw ReplicaDidNotStart(name: name, stderr: failures.joined(separator: "\n"))
    }

    /// Two replicas of one deployment: the same database, Redis and key prefix, and
    /// every background duty on in both (two executors each, a fast sweeper).
    func withCluster(_ body: @Sendable (Cluster) async throws -> Void) async throws {
        let identity = try await TestIdentity.make()
        try await TestDatabase.withFresh { db in
            let adminKey = try await db.withClient { client in
                let workspaces = WorkspaceStore(client: client, logger: TestEnvironment.logger)
                let actor = AuditActor(kind: .system, id: "test")
                for id in ["acme", "other"] { _ = try await workspaces.create(id: id, name: id, defaults: [], actor: actor) }
                let (_, token) = try await APIKeyStore(client: client, logger: TestEnvironment.logger).create(
                    workspaceID: "acme", name: "admin", scopes: Scope.grantableToKeys, expiresAt: nil, createdBy: "test",
                    actsFor: "admin-person", actor: actor)
                return token.value
            }
            // One call: the replicas must share REDIS_KEY_PREFIX, as one deployment does.
            let environment = TestEnvironment.appEnvironment(
                databaseURL: db.url,
                overrides: identity.environment.merging([
                    "EXECUTOR_CONCURRENCY": "2", "EXECUTOR_POLL_INTERVAL_MS": "100", "BACKGROUND_WORKERS": "true",
                    "SWEEP_INTERVAL_MS": "100", "RATE_LIMIT_PER_MINUTE": "100000", "APPROVALS_RATE_LIMIT_PER_MINUTE": "100000",
                ]) { $1 })
            var replicas: [Replica] = []
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                for name in ["a", "b"] { replicas.append(try await Self.start(environment: environment, name: name)) }
                try await body(Cluster(db: db, adminKey: adminKey, identity: identity, replicas: replicas, http: http))
            } catch {
                for replica in replicas { await replica.process.stop() }
                try? await http.shutdown()
                let logs = replicas.map { "--- \($0.base)\n\($0.stderr.suffix(2000))" }.joined(separator: "\n")
                Issue.record("replica logs:\n\(logs)")
                throw error
            }
            for replica in replicas {
                await replica.process.stop()
                // SIGTERM drains and exits 0, with two executors and the workers running.
                #expect(replica.process.poll() == 0, "\(replica.base) exited \(String(describing: replica.process.poll())): \(replica.stderr.suffix(2000))")
            }
            try await http.shutdown()
        }
    }

    @Test func aJobSubmittedOnOneReplicaIsApprovedOnTheOtherAndRunsOnce() async throws {
        try await withCluster { cluster in
            let (a, b) = (cluster.replicas[0], cluster.replicas[1])
            try await cluster.setPolicy("task.create", #"{"approval":"required","approval_timeout_seconds":3600}"#)
            let rita = try await cluster.reviewer()
            let jobID = try await cluster.submit(a, #"{"action":"task.create","params":{"title":"Call Ann","labels":["sales"]}}"#)

            // The event stream is opened on A; the decision is made on B.
            var request = HTTPClientRequest(url: "\(a.base)/v1/workspaces/acme/jobs/\(jobID)/events")
            request.headers.add(name: "Authorization", value: "Bearer \(cluster.adminKey)")
            let stream = try await cluster.http.execute(request, timeout: .seconds(30))
            #expect(stream.status == .ok)
            #expect(stream.headers["content-type"].first == "text/event-stream")
            var text = ""
            var statuses: [String] = []
            var approvedAt: ContinuousClock.Instant?
            var changeSeenAfter: Duration?
            for try await chunk in stream.body {
                text += String(buffer: chunk)
                while let end = text.range(of: "\n\n") {
                    let event = String(text[..<end.lowerBound])
                    text.removeSubrange(..<end.upperBound)
                    guard event.contains("event: job"),
                        let data = event.split(separator: "\n").first(where: { $0.hasPrefix("data: ") })?.dropFirst(6),
                        let job = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
                        let status = job["status"] as? String
                    else { continue }
                    statuses.append(status)
                    if let approvedAt, changeSeenAfter == nil { changeSeenAfter = ContinuousClock.now - approvedAt }
                    if statuses.count == 1 {
                        #expect(status == "pending_approval")
                        try await cluster.approve(b, jobID: jobID, as: rita)
                        approvedAt = ContinuousClock.now
                    }
                }
            }
            // The stream ended by itself at the terminal state. It saw the job leave
            // pending_approval (the decision made on B) and run to succeeded; whether it
            // caught `approved` and `running` in between depends on how fast an executor
            // claimed the job, but the order is always the lifecycle's.
            #expect(statuses.first == "pending_approval")
            #expect(statuses.last == "succeeded")
            #expect(statuses.count >= 2)
            let order = ["pending_approval", "approved", "running", "succeeded"]
            #expect(statuses.map { order.firstIndex(of: $0) ?? -1 } == statuses.map { order.firstIndex(of: $0) ?? -1 }.sorted())
            #expect(Set(statuses).count == statuses.count, "\(statuses)")
            // Woken by B's notification, not by A's 2 s re-read.
            #expect(try #require(changeSeenAfter) < .seconds(2))

            // Executed exactly once, though four executors in two processes were looking.
            #expect(try await cluster.count("SELECT count(*)::int FROM tasks WHERE job_id = '\(jobID)'") == 1)
            #expect(
                try await cluster.count(
                    "SELECT count(*)::int FROM audit_events WHERE target_id = '\(jobID)' AND action = 'job.execution_started'") == 1)
            #expect(
                try await cluster.count(
                    "SELECT count(*)::int FROM audit_events WHERE target_id = '\(jobID)' AND action = 'job.execution_succeeded'") == 1)
            let granted = try await cluster.db.withClient { client in
                let rows = try await client.query(
                    "SELECT actor_id FROM audit_events WHERE action = 'approval.granted' AND details->>'job_id' = \(jobID)")
                var actors: [String?] = []
                for try await (actor) in rows.decode(String?.self) { actors.append(actor) }
                return actors
            }
            #expect(granted.count == 1)
            #expect(granted.first??.contains("rita") == true, "\(granted)")
            let job = try await cluster.send(b, .GET, "/v1/workspaces/acme/jobs/\(jobID)")
            #expect(job.json["status"] as? String == "succeeded")
            #expect(job.json["attempts"] as? Int == 1)
        }
    }

    @Test func jobsApprovedOnBothReplicasEachRunExactlyOnce() async throws {
        try await withCluster { cluster in
            try await cluster.setPolicy("task.create", #"{"approval":"required","approval_timeout_seconds":3600}"#)
            let rita = try await cluster.reviewer()
            var jobs: [String] = []
            for i in 0..<40 {
                jobs.append(
                    try await cluster.submit(
                        cluster.replicas[i % 2], #"{"action":"task.create","params":{"title":"Task \#(i)"}}"#))
            }
            // Approved from both sides at once, alternating replicas.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, job) in jobs.enumerated() {
                    group.addTask { try await cluster.approve(cluster.replicas[(i + 1) % 2], jobID: job, as: rita) }
                }
                try await group.waitForAll()
            }
            try await cluster.eventually("40 jobs succeeded") {
                try await cluster.count("SELECT count(*)::int FROM jobs WHERE status = 'succeeded'") == 40
            }
            #expect(try await cluster.count("SELECT count(*)::int FROM tasks") == 40)
            #expect(try await cluster.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.execution_started'") == 40)
            #expect(
                try await cluster.count("SELECT count(DISTINCT target_id)::int FROM audit_events WHERE action = 'job.execution_started'") == 40)
            #expect(try await cluster.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.execution_succeeded'") == 40)
            #expect(try await cluster.count("SELECT count(*)::int FROM jobs WHERE attempts <> 1") == 0)
            // Every execution was claimed by one of the two processes' executors.
            let pids = Set(cluster.replicas.map { "\($0.process.pid)" })
            let executors = try await cluster.db.withClient { client in
                let rows = try await client.query("SELECT DISTINCT actor_id FROM audit_events WHERE action = 'job.execution_started'")
                var names: [String] = []
                for try await (name) in rows.decode(String.self) { names.append(name) }
                return names
            }
            for name in executors {
                // executor@<host>:<pid>/<instance>
                let pid = name.split(separator: ":").last?.split(separator: "/").first.map(String.init) ?? ""
                #expect(pids.contains(pid), "\(name) is not one of the replicas \(pids)")
            }
        }
    }

    @Test func bothSweepersExpireEachApprovalExactlyOnce() async throws {
        try await withCluster { cluster in
            try await cluster.setPolicy("gmail.send", #"{"approval":"required","approval_timeout_seconds":1}"#)
            var jobs: [String] = []
            for i in 0..<20 {
                jobs.append(
                    try await cluster.submit(
                        cluster.replicas[i % 2],
                        #"{"action":"gmail.send","params":{"to":["ann@example.com"],"subject":"Report \#(i)","text":"Attached."}}"#))
            }
            try await cluster.eventually("20 approvals expired") {
                try await cluster.count("SELECT count(*)::int FROM approvals WHERE status = 'expired'") == 20
            }
            // Both sweepers keep running a while longer: nothing is expired twice.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await cluster.count("SELECT count(*)::int FROM jobs WHERE status = 'expired'") == 20)
            #expect(try await cluster.count("SELECT count(*)::int FROM audit_events WHERE action = 'approval.expired'") == 20)
            #expect(
                try await cluster.count("SELECT count(DISTINCT target_id)::int FROM audit_events WHERE action = 'approval.expired'") == 20)
            // Each replica counts what it expired; together exactly the 20.
            var expired = 0.0
            for replica in cluster.replicas {
                let response = try await cluster.http.execute(HTTPClientRequest(url: "\(replica.base)/metrics"), timeout: .seconds(5))
                let text = String(buffer: try await response.body.collect(upTo: 1 << 22))
                let line = text.split(separator: "\n").first { $0.hasPrefix("gateapi_approvals_expired_total ") }
                expired += line.flatMap { Double($0.split(separator: " ").last!) } ?? 0
            }
            #expect(expired == 20)
            for (i, job) in jobs.enumerated() {
                let answer = try await cluster.send(cluster.replicas[(i + 1) % 2], .GET, "/v1/workspaces/acme/jobs/\(job)")
                #expect(answer.json["status"] as? String == "expired")
            }
        }
    }
}

struct ReplicaDidNotStart: Error, CustomStringConvertible {
    let name: String
    let stderr: String
    var description: String { "replica \(name) did not become ready:\n\(stderr.suffix(3000))" }
}
