import Foundation
import Gate
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Persistence
import PostgresNIO
import Testing

@testable import GateAPI

/// What scripts/test provides: throwaway servers and a scratch folder.
enum TestEnvironment {
    static var databaseURL: String { required("TEST_DATABASE_URL") }
    static var redisURL: String { required("TEST_REDIS_URL") }
    static var serversDirectory: String {
        ProcessInfo.processInfo.environment["TEST_SERVERS_DIR"] ?? NSTemporaryDirectory()
    }
    static var migrationsDirectory: String {
        ProcessInfo.processInfo.environment["TEST_MIGRATIONS_DIR"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("migrations").path
    }

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }()

    private static func required(_ name: String) -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            fatalError("\(name) is not set: run the tests with scripts/test, which starts Postgres and Redis")
        }
        return value
    }

    /// The role `serve` runs as (migration 0016), and `url` with it as the user: every
    /// test app and spawned `gate-api` serves as it, as deployments do, while fixtures
    /// and migrations use the owner's `url`. The test cluster trusts loopback logins.
    static let servingRole = "gateapi_app"
    static func servingURL(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = servingRole
        components.password = nil
        return components.string ?? url
    }

    /// The environment a test app or a spawned `gate-api` runs with: served as the
    /// serving role, migrated (`gate-api migrate`) as the owner of `databaseURL`.
    static func appEnvironment(databaseURL: String, overrides: [String: String] = [:]) -> [String: String] {
        var env = [
            "DATABASE_URL": servingURL(databaseURL),
            "MIGRATION_DATABASE_URL": databaseURL,
            "REDIS_URL": redisURL,
            "HOST": "127.0.0.1",
            "PORT": "0",
            "LOG_LEVEL": "warning",
            "MIGRATIONS_DIR": migrationsDirectory,
            // Dozens of apps run at once against one throwaway server.
            "DATABASE_POOL_SIZE": "8",
            // The whole suite starting at once (dozens of databases created and migrated)
            // can stall the shared server for more than the 2 s default; a test that is
            // about the limit sets its own.
            "DATABASE_TIMEOUT_MS": "10000",
            // Jobs stay where a test put them unless it starts executors (ExecutionFixture).
            "EXECUTOR_CONCURRENCY": "0",
            // Each app its own Redis keys: tests share one Redis server.
            "REDIS_KEY_PREFIX": "test-\(UUID().uuidString):",
            // Dozens of idle sealers polling one server; audit reads seal on their own.
            "AUDIT_SEAL_INTERVAL_MS": "1000",
            // Every test client is 127.0.0.1, and many tests present bad credentials on
            // purpose; the tests of this limit set their own.
            "AUTH_FAILURES_PER_MINUTE": "1000000",
            "AUTH_FAILURES_BURST": "1000000",
        ]
        env.merge(overrides) { $1 }
        return env
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago. It is below Linux's
    /// ephemeral range (32768+), so an outgoing connection cannot take it while a
    /// test has its server stopped for a restart.
    /// Never the same port twice in one run, so two tests cannot pick one port in
    /// the moment between the probe and their server's bind.
    static func freePort() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20000..<32768)
            guard handedOutPorts.withLockedValue({ $0.insert(port).inserted }) else { continue }
            if let channel = try? ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "127.0.0.1", port: port).wait()
            {
                try channel.close().wait()
                return port
            }
        }
        throw NoFreePort()
    }

    private static let handedOutPorts = NIOLockedValueBox<Set<Int>>([])

    /// The directory holding the built `gate-api` executable.
    static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }
}

struct NoFreePort: Error {}

/// A database of its own for one test, created from TEST_DATABASE_URL's server and
/// dropped afterwards, so tests run in parallel without seeing each other's rows.
struct TestDatabase: Sendable {
    let name: String
    let url: String

    static func withFresh<T: Sendable>(
        migrated: Bool = true, _ body: @Sendable (TestDatabase) async throws -> T
    ) async throws -> T {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")) }
        let url = TestEnvironment.databaseURL.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
        let database = TestDatabase(name: name, url: url)
        do {
            if migrated { try await database.migrate() } else { try await ensureServingRole() }
            let result = try await body(database)
            try? await admin { try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)")) }
            return result
        } catch {
            try? await admin { try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)")) }
            throw error
        }
    }

    var configuration: PostgresClient.Configuration {
        get throws { try DatabaseConfiguration.parse(url, maximumConnections: 10) }
    }

    func migrate(directory: String = TestEnvironment.migrationsDirectory) async throws {
        let migrations = try Migration.load(from: directory)
        _ = try await withClient { try await Migrator(migrations: migrations, logger: TestEnvironment.logger).migrate($0) }
    }

    /// The first integer `sql` returns (-1 if no row).
    func count(_ sql: String) async throws -> Int {
        try await withClient { client in
            let rows = try await client.query(PostgresQuery(unsafeSQL: sql))
            for try await (n) in rows.decode(Int.self) { return n }
            return -1
        }
    }

    func execute(_ sql: String) async throws {
        try await withClient { client in
            try await client.query(PostgresQuery(unsafeSQL: sql))
            return ()
        }
    }

    /// Runs `body` with a running client on this database.
    func withClient<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        // Generous: a loaded machine (the whole suite starting at once) can take seconds to connect.
        try await withRunningPostgres(try configuration, logger: TestEnvironment.logger, timeout: .seconds(60), body)
    }

    /// The serving role exists once any database of the cluster is migrated; a test
    /// that starts from an unmigrated one (or an app on the server's `postgres`
    /// database) may come first, so it creates the role as an operator may do before
    /// migrating (the migration then keeps it).
    static func ensureServingRole() async throws {
        guard !servingRoleExists.withLockedValue({ $0 }) else { return }
        try await admin {
            try await $0.query(
                PostgresQuery(
                    unsafeSQL: """
                        DO $$ BEGIN
                            CREATE ROLE \(TestEnvironment.servingRole) LOGIN;
                        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                        END $$
                        """))
        }
        servingRoleExists.withLockedValue { $0 = true }
    }

    private static let servingRoleExists = NIOLockedValueBox(false)

    private static func admin(_ body: @escaping @Sendable (PostgresClient) async throws -> Void) async throws {
        let configuration = try DatabaseConfiguration.parse(TestEnvironment.databaseURL, maximumConnections: 2)
        try await withRunningPostgres(configuration, logger: TestEnvironment.logger, timeout: .seconds(60), body)
    }
}

extension TestEnvironment {
    /// A new migrations directory holding `files` (name → SQL).
    static func scratchMigrations(_ files: [String: String]) throws -> String {
        let dir = "\(serversDirectory)/migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8) }
        return dir
    }
}
