import Approvals
import Foundation
import Gate
import PostgresNIO
import Testing

@testable import Persistence

/// The value rules of the tables every request writes (jobs, approvals, audit events)
/// live in domains (migration 0012), so Postgres does not re-plan them per statement.
@Suite struct SchemaRulesTests {
    static let job = """
        INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type, submitted_by)
        VALUES ('job_1', 'acme', 'task.create', '{}', repeat('a', 64), 'pending_approval', 'k1', 'api_key', 'key1')
        """
    static let approval = """
        INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at)
        VALUES ('apr_1', 'acme', 'job_1', 'task.create', 'pending', repeat('a', 64), 1, now() + interval '1 hour')
        """

    func sqlState(_ sql: String, on db: TestDatabase) async -> String? {
        do {
            try await db.execute(sql)
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "no state"
        } catch {
            return "\(error)"
        }
    }

    @Test func everyRuleStillRefusesABadValue() async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            try await db.execute(Self.job)
            try await db.execute(Self.approval)
            let refused = [
                "UPDATE jobs SET status = 'paused'",
                "UPDATE jobs SET payload_hash = repeat('A', 64)",
                "UPDATE jobs SET payload_hash = repeat('a', 63)",
                "UPDATE jobs SET idempotency_key = ''",
                "UPDATE jobs SET idempotency_key = repeat('k', 256)",
                "UPDATE approvals SET status = 'maybe'",
                "UPDATE approvals SET required_approvals = 0",
                "UPDATE approvals SET required_approvals = 11",
                "INSERT INTO audit_events (workspace_id, actor_type, action, outcome) VALUES ('acme', 'system', 'x', 'unknown')",
                Self.job.replacingOccurrences(of: "'job_1'", with: "'job_2'").replacingOccurrences(of: "'k1'", with: "'k2'")
                    .replacingOccurrences(of: "'pending_approval'", with: "'Pending_Approval'"),
            ]
            for sql in refused {
                #expect(await sqlState(sql, on: db) == "23514", "\(sql)")
            }
            // The values at the edges pass; the refused insert left no job behind.
            for sql in [
                "UPDATE jobs SET status = 'approved', idempotency_key = repeat('k', 255)",
                "UPDATE approvals SET status = 'expired', required_approvals = 10",
                "INSERT INTO audit_events (workspace_id, actor_type, action, outcome) VALUES ('acme', 'system', 'x', 'denied')",
            ] {
                #expect(await sqlState(sql, on: db) == nil, "\(sql)")
            }
            #expect(try await db.count("SELECT count(*)::int FROM jobs") == 1)
            // No table CHECK constraint is left on the hot tables (each would be planned
            // again for every statement that writes them).
            #expect(try await db.count("""
                SELECT count(*)::int FROM pg_constraint
                WHERE contype = 'c' AND conrelid IN ('jobs'::regclass, 'approvals'::regclass, 'audit_events'::regclass)
                """) == 0)
        }
    }

    /// A database that has jobs when 0012 arrives keeps them and its tables' files (no
    /// rewrite), and the status triggers 0012 re-creates still fire.
    @Test func upgradingKeepsTheRowsTheFilesAndTheTriggers() async throws {
        let all = try Migration.load(from: TestEnvironment.migrationsDirectory)
        var earlier: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: TestEnvironment.migrationsDirectory)
        where name.hasSuffix(".sql") && name < "0012" {
            earlier[name] = try String(contentsOfFile: "\(TestEnvironment.migrationsDirectory)/\(name)", encoding: .utf8)
        }
        let before = try TestEnvironment.scratchMigrations(earlier)
        try await TestDatabase.withFresh(migrated: false) { db in
            try await db.migrate(directory: before)
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            try await db.execute(Self.job)
            try await db.execute("UPDATE jobs SET callback_url = 'https://example.com/hook'")
            try await db.execute(Self.approval)
            let tables = ["jobs", "approvals", "audit_events"]
            func files() async throws -> [Int] {
                var nodes: [Int] = []
                for table in tables { nodes.append(try await db.count("SELECT relfilenode::int FROM pg_class WHERE relname = '\(table)'")) }
                return nodes
            }
            let filesBefore = try await files()

            try await db.migrate()
            #expect(try await db.count("SELECT max(version)::int FROM schema_migrations") == all.last!.version)
            #expect(try await files() == filesBefore)
            #expect(try await db.count("SELECT count(*)::int FROM jobs WHERE status = 'pending_approval'") == 1)
            // The webhook trigger queues a delivery for the status change.
            try await db.execute("UPDATE jobs SET status = 'approved'")
            #expect(try await db.count("SELECT count(*)::int FROM webhook_deliveries") == 1)
            #expect(await sqlState("UPDATE jobs SET status = 'paused'", on: db) == "23514")
        }
    }

    /// The database's lifecycle (migration 0018) is `JobStatus.allowedNext`, pair by pair.
    @Test func theDatabaseMovesJobsExactlyAsJobStatusSays() async throws {
        try await TestDatabase.withFresh { db in
            try await db.withClient { client in
                for old in JobStatus.allCases {
                    for new in JobStatus.allCases where new != old {
                        let rows = try await client.query(
                            "SELECT job_status_allowed(\(old.rawValue)::job_status, \(new.rawValue)::job_status)")
                        for try await (allowed) in rows.decode(Bool.self) {
                            #expect(allowed == old.canMove(to: new), "\(old.rawValue) → \(new.rawValue)")
                        }
                    }
                }
            }
        }
    }

    /// Nothing moves a job waiting for approval around the gate, nor a finished job back.
    @Test func aStatementCannotSkipTheGate() async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            try await db.execute(Self.job)
            for status in ["running", "queued", "succeeded", "dead"] {
                #expect(await sqlState("UPDATE jobs SET status = '\(status)'", on: db) == "23514", "pending_approval → \(status)")
            }
            try await db.execute("UPDATE jobs SET status = 'cancelled'")
            #expect(await sqlState("UPDATE jobs SET status = 'approved'", on: db) == "23514")
            #expect(try await db.count("SELECT count(*)::int FROM jobs WHERE status = 'cancelled'") == 1)
        }
    }
}
