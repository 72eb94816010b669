import Foundation
import Gate
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

@Suite struct MigratorTests {
    @Test func appliesTheProjectMigrationsOnceAndIsIdempotent() async throws {
        try await TestDatabase.withFresh(migrated: false) { db in
            let migrations = try Migration.load(from: TestEnvironment.migrationsDirectory)
            #expect(!migrations.isEmpty)
            let migrator = Migrator(migrations: migrations, logger: TestEnvironment.logger)
            let first = try await db.withClient { try await migrator.migrate($0) }
            #expect(first == migrations.map(\.version))
            let second = try await db.withClient { try await migrator.migrate($0) }
            #expect(second.isEmpty)
            #expect(try await db.count("SELECT count(*)::int FROM schema_migrations") == migrations.count)
            let status = try await db.withClient { try await migrator.status($0) }
            #expect(status.pending.isEmpty)
            #expect(status.applied == migrations.map(\.version))
        }
    }

    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        // A migration that fails if run twice (no IF NOT EXISTS) and a slow one to widen the race.
        let dir = try TestEnvironment.scratchMigrations([
            "0001_slow.sql": "CREATE TABLE one (id int); SELECT pg_sleep(0.3);",
            "0002_two.sql": "CREATE TABLE two (id int); INSERT INTO two VALUES (1);",
        ])
        try await TestDatabase.withFresh(migrated: false) { db in
            let migrations = try Migration.load(from: dir)
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await db.withClient { try await Migrator(migrations: migrations, logger: TestEnvironment.logger).migrate($0) }
                    }
                }
                var all: [Int] = []
                for try await versions in group { all += versions }
                return all
            }
            #expect(applied.sorted() == [1, 2])
            #expect(try await db.count("SELECT count(*)::int FROM two") == 1)
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let dir = try TestEnvironment.scratchMigrations([
            "0001_ok.sql": "CREATE TABLE ok (id int);",
            "0002_bad.sql": "CREATE TABLE half (id int); INSERT INTO missing VALUES (1);",
            "0003_later.sql": "CREATE TABLE later (id int);",
        ])
        try await TestDatabase.withFresh(migrated: false) { db in
            let migrator = Migrator(migrations: try Migration.load(from: dir), logger: TestEnvironment.logger)
            await #expect(throws: MigrationError.self) { try await db.withClient { try await migrator.migrate($0) } }
            #expect(try await db.count("SELECT count(*)::int FROM schema_migrations") == 1)
            #expect(try await db.count("SELECT count(*)::int FROM pg_tables WHERE tablename IN ('half', 'later')") == 0)
            let status = try await db.withClient { try await migrator.status($0) }
            #expect(status.pending.map(\.version) == [2, 3])
        }
    }

    @Test func anEditedMigrationIsRefused() async throws {
        let dir = try TestEnvironment.scratchMigrations(["0001_a.sql": "CREATE TABLE a (id int);"])
        try await TestDatabase.withFresh(migrated: false) { db in
            try await db.migrate(directory: dir)
            try "CREATE TABLE a (id bigint);".write(toFile: "\(dir)/0001_a.sql", atomically: true, encoding: .utf8)
            let edited = Migrator(migrations: try Migration.load(from: dir), logger: TestEnvironment.logger)
            await #expect(throws: MigrationError.modified(version: 1, name: "a")) {
                try await db.withClient { try await edited.migrate($0) }
            }
        }
    }

    @Test func badFileNamesAndDuplicatesAreRejected() throws {
        let badName = try TestEnvironment.scratchMigrations(["first.sql": "SELECT 1;"])
        #expect(throws: MigrationError.badFileName("first.sql")) { try Migration.load(from: badName) }
        let duplicate = try TestEnvironment.scratchMigrations(["0001_a.sql": "SELECT 1;", "1_b.sql": "SELECT 2;"])
        #expect(throws: MigrationError.duplicateVersion(1)) { try Migration.load(from: duplicate) }
    }
}
