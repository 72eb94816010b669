import Foundation
import HummingbirdTesting
import NIOCore
import PostgresNIO

@testable import GateAPI

/// Executors for tests: a second GateAPI instance on the fixture's database whose
/// only job is to run jobs, polling fast and retrying quickly.
extension AuthFixture {
    static let fastExecutor = [
        "EXECUTOR_CONCURRENCY": "4", "EXECUTOR_POLL_INTERVAL_MS": "50", "ACTION_RETRY_BASE_MS": "50",
        "ACTION_RETRY_MAX_SECONDS": "1",
    ]

    func withExecutor(
        environment overrides: [String: String] = [:], _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var environment = identity.environment
        environment.merge(Self.fastExecutor) { $1 }
        environment["BACKGROUND_WORKERS"] = "false"
        environment.merge(overrides) { $1 }
        try await withTestApp(databaseURL: db.url, environment: environment, body)
    }

    /// Polls the job until `done` holds for its status, for at most `limit`.
    @discardableResult
    func waitForJob(
        _ client: any TestClientProtocol, _ id: String, within limit: Duration = .seconds(20),
        until done: (String) -> Bool
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + limit
        while true {
            let job = try await self.job(client, id)
            if let status = job["status"] as? String, done(status) { return job }
            if ContinuousClock.now > deadline {
                throw WaitTimedOut(what: "job \(id) still \(job["status"] ?? "?")")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Audit actions for one target, oldest first.
    func auditTrail(target: String) async throws -> [String] {
        try await db.withClient { client in
            let rows = try await client.query("SELECT action FROM audit_events WHERE target_id = \(target) ORDER BY seq")
            var actions: [String] = []
            for try await (action) in rows.decode(String.self) { actions.append(action) }
            return actions
        }
    }
}

struct WaitTimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting: \(what)" }
}
