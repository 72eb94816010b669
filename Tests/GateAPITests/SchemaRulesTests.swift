import Foundation
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

    func execute(_ sql: String, on db: TestDatabase) async throws {
        try await db.withClient { client in _ = try await client.query(PostgresQuery(unsafeSQL: sql)) }
    }

    func sqlState(_ sql: String, on db: TestDatabase) async -> String? {
        do {
            try await execute(sql, on: db)
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "no state"
        } catch {
            return "\(error)"
        }
    }

    func integers(_ sql: String, on db: TestDatabase) async throws -> [Int] {
        try await db.withClient { client in
            var values: [Int] = []
            for try await (n) in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Int.self) { values.append(n) }
            return values
        }
    }

    @Test func everyRuleStillRefusesABadValue() async throws {
        try await TestDatabase.withFresh { db in
            try await execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')", on: db)
            try await execute(Self.job, on: db)
            try await execute(Self.approval, on: db)
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
                "UPDATE jobs SET status = 'dead', idempotency_key = repeat('k', 255)",
                "UPDATE approvals SET status = 'expired', required_approvals = 10",
                "INSERT INTO audit_events (workspace_id, actor_type, action, outcome) VALUES ('acme', 'system', 'x', 'denied')",
            ] {
                #expect(await sqlState(sql, on: db) == nil, "\(sql)")
            }
            #expect(try await integers("SELECT count(*)::int FROM jobs", on: db) == [1])
            // No table CHECK constraint is left on the hot tables (each would be planned
            // again for every statement that writes them).
            #expect(try await integers("""
                SELECT count(*)::int FROM pg_constraint
                WHERE contype = 'c' AND conrelid IN ('jobs'::regclass, 'approvals'::regclass, 'audit_events'::regclass)
                """, on: db) == [0])
        }
    }

    /// A database that has jobs when 0012 arrives keeps them and its tables' files (no
    /// rewrite), and the status triggers 0012 re-creates still fire.
    @Test func upgradingKeepsTheRowsTheFilesAndTheTriggers() async throws {
        let all = try Migration.load(from: TestEnvironment.migrationsDirectory)
        let before = "\(TestEnvironment.serversDirectory)/migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: before, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: TestEnvironment.migrationsDirectory)
        where name.hasSuffix(".sql") && name < "0012" {
            try FileManager.default.copyItem(atPath: "\(TestEnvironment.migrationsDirectory)/\(name)", toPath: "\(before)/\(name)")
        }
        try await TestDatabase.withFresh(migrated: false) { db in
            try await db.migrate(directory: before)
            try await execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')", on: db)
            try await execute(Self.job, on: db)
            try await execute("UPDATE jobs SET callback_url = 'https://example.com/hook'", on: db)
            try await execute(Self.approval, on: db)
            let files = "SELECT relfilenode::int FROM pg_class WHERE relname IN ('jobs', 'approvals', 'audit_events') ORDER BY relname"
            let filesBefore = try await integers(files, on: db)

            try await db.migrate()
            #expect(try await integers("SELECT max(version)::int FROM schema_migrations", on: db) == [all.last!.version])
            #expect(try await integers(files, on: db) == filesBefore)
            #expect(try await integers("SELECT count(*)::int FROM jobs WHERE status = 'pending_approval'", on: db) == [1])
            // The webhook trigger queues a delivery for the status change.
            try await execute("UPDATE jobs SET status = 'approved'", on: db)
            #expect(try await integers("SELECT count(*)::int FROM webhook_deliveries", on: db) == [1])
            #expect(await sqlState("UPDATE jobs SET status = 'paused'", on: db) == "23514")
        }
    }
}
