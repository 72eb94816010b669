import Gate
import Logging
import PostgresNIO

/// Applies `migrations/` to the database: in order, each in its own transaction,
/// recorded in `schema_migrations`, under a session advisory lock so that two
/// processes migrating at once apply each file exactly once.
public struct Migrator: Sendable {
    /// Arbitrary, fixed: every GateAPI process contends for this one lock.
    static let advisoryLockKey: Int64 = 0x6761_7465_6170_6901

    public let migrations: [Migration]
    private let logger: Logger

    public init(migrations: [Migration], logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    public struct Status: Sendable, Equatable {
        public var applied: [Int]
        public var pending: [Migration]
        /// Versions recorded in the database that this build has no file for
        /// (a newer release migrated already: fine during a rolling deploy).
        public var unknown: [Int]
    }

    /// Applies every pending migration; returns the versions applied now.
    @discardableResult
    public func migrate(_ client: PostgresClient) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            do {
                let applied = try await applyPending(on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return applied
            } catch {
                // The lock is per session: release it before the connection goes back to the pool.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    /// What is applied and what is not, without changing anything.
    public func status(_ client: PostgresClient) async throws -> Status {
        try await client.withConnection { connection in
            let recorded = try await recordedChecksums(on: connection)
            return try compare(recorded)
        }
    }

    private func applyPending(on connection: PostgresConnection) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        let status = try compare(try await recordedChecksums(on: connection))
        var appliedNow: [Int] = []
        for migration in status.pending {
            do {
                try await connection.transaction(logger: logger) { tx in
                    for statement in SQLScript.statements(in: migration.sql) {
                        try await tx.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await tx.query(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                        logger: logger)
                }
            } catch let error as PSQLError where error.serverInfo?[.message] != nil {
                // A server error (bad SQL) fails the migration; a lost connection is passed on as is.
                throw MigrationError.failed(
                    version: migration.version, name: migration.name, reason: error.serverInfo?[.message] ?? "")
            }
            logger.info("migration applied", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            appliedNow.append(migration.version)
        }
        return appliedNow
    }

    private func recordedChecksums(on connection: PostgresConnection) async throws -> [Int: String] {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        for try await (present) in exists.decode(Bool.self) where !present { return [:] }
        var recorded: [Int: String] = [:]
        let rows = try await connection.query("SELECT version, checksum FROM schema_migrations", logger: logger)
        for try await (version, checksum) in rows.decode((Int, String).self) {
            recorded[version] = checksum
        }
        return recorded
    }

    private func compare(_ recorded: [Int: String]) throws -> Status {
        for migration in migrations {
            if let checksum = recorded[migration.version], checksum != migration.checksum {
                throw MigrationError.modified(version: migration.version, name: migration.name)
            }
        }
        let known = Set(migrations.map(\.version))
        return Status(
            applied: recorded.keys.filter(known.contains).sorted(),
            pending: migrations.filter { recorded[$0.version] == nil },
            unknown: recorded.keys.filter { !known.contains($0) }.sorted())
    }
}
