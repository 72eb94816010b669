import AsyncHTTPClient
import Foundation
import Gate
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// A managed Postgres restarts or fails over routinely. A `gate-api serve` under load
/// must come through it: 503 while Postgres is gone, nothing lost, 201 and 200 again after —
/// and above all still running (PostgresNIO's pool trapped on the reconnection when it
/// kept a minimum of connections open; see DatabaseConfiguration).
@Suite struct DatabaseRestartTests {
    /// What the submitters saw, by phase of the drill.
    enum Phase: String, Sendable { case before, down, after }

    final class Tally: Sendable {
        private let state = NIOLockedValueBox<
            (phase: Phase, answers: [Phase: [String: Int]], created: [String], slowest: [Phase: Duration])
        >((.before, [:], [], [:]))

        var phase: Phase {
            get { state.withLockedValue { $0.phase } }
            set { state.withLockedValue { $0.phase = newValue } }
        }

        /// `answer` is a status code, or a transport error's description.
        func record(_ answer: String, createdJob: String?, in phase: Phase, took: Duration) {
            state.withLockedValue { state in
                state.answers[phase, default: [:]][answer, default: 0] += 1
                state.slowest[phase] = max(state.slowest[phase] ?? .zero, took)
                if let createdJob { state.created.append(createdJob) }
            }
        }

        func count(_ answer: String, in phase: Phase) -> Int { state.withLockedValue { $0.answers[phase]?[answer] ?? 0 } }
        var answers: [Phase: [String: Int]] { state.withLockedValue { $0.answers } }
        var created: [String] { state.withLockedValue { $0.created } }
        /// The longest answer by phase (for failure messages).
        var slowest: [Phase: Duration] { state.withLockedValue { $0.slowest } }
    }

    @Test func serveKeepsServingThroughAPostgresRestartUnderLoad() async throws {
        let postgres = try await PostgresServerProcess()
        do {
            try await drill(postgres)
        } catch {
            await postgres.stop()
            throw error
        }
        await postgres.stop()
    }

    private func drill(_ postgres: PostgresServerProcess) async throws {
        let db = TestDatabase(name: "postgres", url: postgres.url)
        try await db.migrate()
        let adminKey = try await db.withClient { client in
            let actor = AuditActor(kind: .system, id: "test")
            _ = try await WorkspaceStore(client: client, logger: TestEnvironment.logger).create(
                id: "acme", name: "acme", defaults: [DefaultPolicy(action: "task.create", approvalTimeoutSeconds: 3600)],
                actor: actor)
            let (_, token) = try await APIKeyStore(client: client, logger: TestEnvironment.logger).create(
                workspaceID: "acme", name: "agent", scopes: Scope.grantableToKeys, expiresAt: nil, createdBy: "test",
                actsFor: "agent-person", actor: actor)
            return token.value
        }
        var environment = TestEnvironment.appEnvironment(
            databaseURL: postgres.url,
            overrides: [
                // Answered 503 within the 3 s outage, not after it.
                "DATABASE_TIMEOUT_MS": "1000",
                "RATE_LIMIT_PER_MINUTE": "1000000", "WORKSPACE_RATE_LIMIT_PER_MINUTE": "10000000",
            ])
        // The server's own pool settings, whatever the suite's.
        environment["DATABASE_POOL_MIN_SIZE"] = nil
        let replica = try await ReplicaTests.start(environment: environment, name: "pg-restart")
        // A connection per client (the default pool of 8 would queue requests in this
        // process, and a request queued before Postgres stops would be sent after).
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let tally = Tally()
        let stop = NIOLockedValueBox(false)
        // Four times as many clients as pooled connections, so requests wait for connections while
        // the pool opens them again: a quarter submissions (their inserts are batched,
        // two statements at a time), the rest job listings (a connection each).
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<32 {
                    group.addTask {
                        while !stop.withLockedValue({ $0 }) {
                            let phase = tally.phase
                            let started = ContinuousClock.now
                            var request = HTTPClientRequest(url: replica.base + "/v1/workspaces/acme/jobs?limit=5")
                            request.headers.add(name: "Authorization", value: "Bearer \(adminKey)")
                            if worker.isMultiple(of: 4) {
                                request.url = replica.base + "/v1/workspaces/acme/jobs"
                                request.method = .POST
                                request.headers.add(name: "Idempotency-Key", value: UUID().uuidString)
                                request.headers.add(name: "Content-Type", value: "application/json")
                                request.body = .bytes(ByteBuffer(string: taskBody))
                            }
                            do {
                                // Generous: two cores shared with the whole suite.
                                let response = try await http.execute(request, timeout: .seconds(30))
                                let body = try await response.body.collect(upTo: 1 << 20)
                                let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
                                let status = Int(response.status.code)
                                tally.record(
                                    String(status), createdJob: status == 201 ? json?["id"] as? String : nil, in: phase,
                                    took: ContinuousClock.now - started)
                            } catch {
                                tally.record("error: \(error)", createdJob: nil, in: phase, took: ContinuousClock.now - started)
                            }
                            // A pause, so the load leaves the machine's two cores to the suites
                            // running alongside; requests still pile up while Postgres is down.
                            try? await Task.sleep(for: .milliseconds(25))
                        }
                    }
                }
            }
        }
        defer { stop.withLockedValue { $0 = true } }
        let failure: (any Error)?
        do {
            #expect(try await eventually(within: .seconds(30)) { tally.count("201", in: .before) >= 50 }, "\(tally.answers)")
            // Three restarts: whether a request reaches the pool at the wrong moment is
            // a matter of timing (a single restart killed the old configuration in one
            // run of two).
            for _ in 0..<3 where replica.process.isRunning {
                let (created, listed) = (tally.count("201", in: .after), tally.count("200", in: .after))
                tally.phase = .down
                await postgres.crash()
                try await Task.sleep(for: .seconds(3))
                try await postgres.start()
                tally.phase = .after
                // Back to normal, and then some more load while the pool fills up again.
                #expect(
                    try await eventually(within: .seconds(60)) {
                        !replica.process.isRunning
                            || (tally.count("201", in: .after) >= created + 30 && tally.count("200", in: .after) >= listed + 30)
                    }, "\(tally.answers)")
                try await Task.sleep(for: .seconds(1))
            }
            failure = nil
        } catch {
            failure = error
        }
        stop.withLockedValue { $0 = true }
        await load.value
        try? await http.shutdown()

        let answers = tally.answers
        // The trap's own line ("Fatal error", "Crash: ...", the pool's frames).
        let fatal = replica.stderr.split(separator: "\n").filter {
            $0.contains("Fatal error") || $0.contains("Crash") || $0.contains("precondition") || $0.contains("PoolStateMachine")
        }.prefix(6)
        #expect(replica.process.isRunning, "gate-api serve died (exit \(String(describing: replica.process.poll()))): \(fatal)")
        #expect(tally.count("503", in: .down) > 0, "\(answers), slowest \(tally.slowest)")
        #expect(tally.count("201", in: .after) >= 90 && tally.count("200", in: .after) >= 90, "\(answers)")
        for (phase, byAnswer) in answers {
            // Nothing but created, listed or "Postgres unavailable, retry": no 500, no dropped connection.
            #expect(Set(byAnswer.keys).isSubset(of: ["200", "201", "503"]), "\(phase): \(byAnswer)")
        }
        if replica.process.isRunning {
            let ready = try await HTTPClient.shared.execute(HTTPClientRequest(url: replica.base + "/ready"), timeout: .seconds(5))
            #expect(ready.status == .ok)
        }
        await replica.process.stop()
        // Every job answered 201 is stored: the restart lost no acknowledged submission.
        let created = tally.created
        let stored = try await db.count(
            "SELECT count(*)::int FROM jobs WHERE id IN (\(created.map { "'\($0)'" }.joined(separator: ",")))")
        #expect(stored == created.count)
        if let failure { throw failure }
    }
}
