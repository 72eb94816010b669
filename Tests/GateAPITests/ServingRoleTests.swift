import Foundation
@testable import Persistence
import Gate
import PostgresNIO
import Testing

@testable import GateAPI

/// Least privilege by default (migration 0016, docs/operations.md "Database roles"): `serve` runs
/// as gateapi_app, which can do everything serving needs and cannot change the audit
/// log's rules or rows, nor the schema.
@Suite struct ServingRoleTests {
    /// Runs `body` with a client logged in as the serving role on `db`.
    func asServingRole<T: Sendable>(
        _ db: TestDatabase, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let configuration = try DatabaseConfiguration.parse(TestEnvironment.servingURL(db.url), maximumConnections: 2)
        return try await withRunningPostgres(configuration, logger: TestEnvironment.logger, timeout: .seconds(60), body)
    }

    /// The SQLSTATE and message `sql` fails with, or nil when it succeeds.
    static func refusal(_ sql: String, on client: PostgresClient) async -> (state: String, message: String)? {
        do {
            try await client.query(PostgresQuery(unsafeSQL: sql))
            return nil
        } catch let error as PSQLError {
            return (error.serverInfo?[.sqlState] ?? "no state", error.serverInfo?[.message] ?? "\(error)")
        } catch {
            return ("not a server error", "\(error)")
        }
    }

    static func strings(_ sql: String, on client: PostgresClient) async throws -> [String] {
        var result: [String] = []
        for try await (value) in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(String.self) {
            result.append(value)
        }
        return result
    }

    static let event = """
        INSERT INTO audit_events (workspace_id, actor_type, action, outcome) VALUES ('acme', 'system', 'test.event', 'success')
        """

    @Test func theServingRoleCannotDisableTheAppendOnlyTriggersNorChangeTheAuditLog() async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'Acme')")
            // What serving needs works: an event is written, sealed into the chain and read.
            let sealed = try await asServingRole(db) { client in
                try await client.query(PostgresQuery(unsafeSQL: Self.event))
                try await client.query(PostgresQuery(unsafeSQL: Self.event))
                return try await Self.strings("SELECT audit_seal('acme', 100, 0)::text", on: client)
            }
            #expect(sealed == ["2"])

            let tampering = [
                "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
                "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate",
                "ALTER TABLE audit_events DISABLE TRIGGER ALL",
                "ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_no_update_delete",
                "DROP TRIGGER audit_events_no_update_delete ON audit_events",
                "ALTER TABLE audit_events ADD COLUMN note text",
                "ALTER TABLE audit_events OWNER TO gateapi_app",
                "DROP TABLE audit_events",
                "TRUNCATE audit_events",
                "TRUNCATE audit_chain",
                "UPDATE audit_events SET outcome = 'failure'",
                "DELETE FROM audit_events",
                "UPDATE audit_chain SET hash = sha256('forged')",
                "DELETE FROM audit_chain",
                "INSERT INTO audit_chain (seq, workspace_id, position, hash) VALUES (999, 'acme', 99, sha256('x'))",
                // Emptying the queue would leave new events out of the chain.
                "DELETE FROM audit_unsealed",
                "CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
                // Replication mode skips ordinary triggers: only a superuser may set it.
                "SET session_replication_role = replica",
                "SET ROLE gate",
                "CREATE TABLE scratch (id int)",
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'x', 'x')",
                "DELETE FROM schema_migrations",
            ]
            let refusals = try await asServingRole(db) { client in
                var refusals: [String: (state: String, message: String)?] = [:]
                for sql in tampering { refusals[sql] = await Self.refusal(sql, on: client) }
                return refusals
            }
            for sql in tampering {
                let refusal = refusals[sql] ?? nil
                // Refused for lack of privilege (42501), not merely by the triggers, which
                // the statements above would otherwise switch off first.
                #expect(refusal?.state == "42501", "\(sql): \(String(describing: refusal))")
                #expect(refusal?.message.contains("append-only") == false, "\(sql): \(String(describing: refusal))")
            }

            // Nothing changed: both events and their links are there, the triggers are on.
            #expect(try await db.count("SELECT count(*)::int FROM audit_events WHERE outcome = 'success'") == 2)
            #expect(try await db.count("SELECT count(*)::int FROM audit_chain") == 2)
            let triggers = """
                SELECT count(*)::int FROM pg_trigger
                WHERE tgrelid IN ('audit_events'::regclass, 'audit_chain'::regclass) AND NOT tgisinternal
                """
            #expect(try await db.count(triggers) >= 5)
            #expect(try await db.count(triggers + " AND tgenabled <> 'O'") == 0)
            #expect(try await db.count("SELECT count(*)::int FROM pg_class WHERE relname = 'scratch'") == 0)
        }
    }

    /// A generic rule, so that tables later migrations add are covered too: the serving
    /// role owns nothing, may read and write every table but the append-only ones and
    /// schema_migrations, and may never TRUNCATE, reference or add triggers.
    @Test func theServingRoleOwnsNothingAndIsGrantedEveryTableButTheAppendOnlyOnes() async throws {
        try await TestDatabase.withFresh { db in
            // As a later migration would (run by the same owner): default privileges apply.
            try await db.execute("CREATE TABLE later_table (id bigserial PRIMARY KEY, note text)")
            try await db.withClient { client in
                let owned = try await Self.strings(
                    """
                    SELECT relname::text FROM pg_class WHERE relowner = 'gateapi_app'::regrole
                    UNION ALL SELECT proname::text FROM pg_proc WHERE proowner = 'gateapi_app'::regrole
                    UNION ALL SELECT typname::text FROM pg_type WHERE typowner = 'gateapi_app'::regrole
                    UNION ALL SELECT nspname::text FROM pg_namespace WHERE nspowner = 'gateapi_app'::regrole
                    """, on: client)
                #expect(owned.isEmpty, "owned by the serving role: \(owned)")

                // Append-only: a table whose triggers refuse changes (0002, 0007).
                let appendOnly = Set(
                    try await Self.strings(
                        """
                        SELECT DISTINCT t.tgrelid::regclass::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                        WHERE p.proname IN ('audit_refuse_change', 'audit_events_append_only')
                        """, on: client))
                #expect(appendOnly.isSuperset(of: ["audit_events", "audit_chain"]))
                // Written only by the sealer (SECURITY DEFINER) and by `gate-api migrate`.
                let readOnly: Set<String> = ["audit_chain", "audit_unsealed", "schema_migrations"]
                let tables = try await Self.strings(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", on: client)
                #expect(tables.contains("jobs") && tables.contains("later_table"))
                for table in tables {
                    let granted = try await Self.strings(
                        """
                        SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                        WHERE has_table_privilege('gateapi_app', 'public.' || quote_ident('\(table)'), p)
                        """, on: client)
                    let expected: [String] =
                        readOnly.contains(table) ? ["SELECT"]
                        : appendOnly.contains(table) ? ["SELECT", "INSERT"] : ["SELECT", "INSERT", "UPDATE", "DELETE"]
                    #expect(granted == expected, "\(table)")
                }
                let sequencesWithoutUsage = try await Self.strings(
                    """
                    SELECT sequencename::text FROM pg_sequences
                    WHERE schemaname = 'public' AND NOT has_sequence_privilege('gateapi_app', 'public.' || quote_ident(sequencename), 'USAGE')
                    """, on: client)
                #expect(sequencesWithoutUsage.isEmpty, "\(sequencesWithoutUsage)")
                #expect(try await Self.strings("SELECT has_function_privilege('gateapi_app', 'audit_seal(text, integer, integer)', 'EXECUTE')::text", on: client) == ["true"])
            }
        }
    }

    @Test func theTestAppsServeAsTheServingRole() async throws {
        try await TestDatabase.withFresh { db in
            let config = try AppConfig.load(from: TestEnvironment.appEnvironment(databaseURL: db.url))
            let privileges = try await withRunningPostgres(config.database, logger: TestEnvironment.logger) { client in
                try await DatabaseRolePrivileges.of(client, logger: TestEnvironment.logger)
            }
            #expect(privileges == DatabaseRolePrivileges(role: "gateapi_app", login: "gateapi_app", excess: []))
            // The owner (the test cluster's superuser) is what serve refuses.
            let owner = try await db.withClient { try await DatabaseRolePrivileges.of($0, logger: TestEnvironment.logger) }
            #expect(owner.excess.first == "is a superuser")

            // A running app's connections (its pool and its LISTEN connection) all log in as the serving role.
            try await withTestApp(databaseURL: db.url) { client in
                #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)
                let logins = try await db.withClient { client in
                    try await Self.strings(
                        "SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                        on: client)
                }
                // (The fixture's own checks log in as the owner.)
                #expect(Set(logins).subtracting(["gate"]) == ["gateapi_app"])
            }
        }
    }

    /// One login for both (Render's database): DATABASE_ROLE switches every serving
    /// connection to the serving role as it opens; migrate keeps the login.
    @Test func databaseRoleSwitchesServingConnectionsButNotMigrations() async throws {
        try await TestDatabase.withFresh { db in
            let config = try AppConfig.load(from: [
                "DATABASE_URL": db.url, "DATABASE_ROLE": "gateapi_app", "REDIS_URL": TestEnvironment.redisURL,
            ])
            let serving = try await withRunningPostgres(config.database, logger: TestEnvironment.logger) { client in
                try await DatabaseRolePrivileges.of(client, logger: TestEnvironment.logger)
            }
            #expect(serving.role == "gateapi_app" && serving.login == "gate" && serving.excess.isEmpty)
            let migrating = try await withRunningPostgres(config.databaseRoles.migration, logger: TestEnvironment.logger) {
                try await DatabaseRolePrivileges.of($0, logger: TestEnvironment.logger)
            }
            #expect(migrating.role == "gate")
        }
    }

    /// Render's case: the only login owns the database and is no superuser (it has
    /// CREATEROLE). It migrates, and with DATABASE_ROLE serves as gateapi_app.
    @Test func aSingleOwnerLoginThatIsNoSuperuserMigratesAndServesThroughDatabaseRole() async throws {
        let owner = "owner_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let admin = try DatabaseConfiguration.parse(TestEnvironment.databaseURL, maximumConnections: 2)
        try await withRunningPostgres(admin, logger: TestEnvironment.logger, timeout: .seconds(60)) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(owner) LOGIN CREATEROLE"))
            return ()
        }
        try await TestDatabase.withFresh(migrated: false) { db in
            try await db.execute("ALTER DATABASE \(db.name) OWNER TO \(owner)")
            var components = URLComponents(string: db.url)!
            components.user = owner
            let ownerURL = components.string!
            let migrations = try Migration.load(from: TestEnvironment.migrationsDirectory)
            _ = try await withRunningPostgres(
                try DatabaseConfiguration.parse(ownerURL, maximumConnections: 2), logger: TestEnvironment.logger, timeout: .seconds(60)
            ) { try await Migrator(migrations: migrations, logger: TestEnvironment.logger).migrate($0) }

            let config = try AppConfig.load(from: [
                "DATABASE_URL": ownerURL, "DATABASE_ROLE": "gateapi_app", "REDIS_URL": TestEnvironment.redisURL,
            ])
            let serving = try await withRunningPostgres(config.database, logger: TestEnvironment.logger) {
                try await DatabaseRolePrivileges.of($0, logger: TestEnvironment.logger)
            }
            #expect(serving == DatabaseRolePrivileges(role: "gateapi_app", login: owner, excess: []))
            let migrating = try await withRunningPostgres(config.databaseRoles.migration, logger: TestEnvironment.logger) {
                try await DatabaseRolePrivileges.of($0, logger: TestEnvironment.logger)
            }
            #expect(migrating.excess == ["may create roles (CREATEROLE)", "owns the tables (or is a member of their owner)"])
        }
        try? await withRunningPostgres(admin, logger: TestEnvironment.logger, timeout: .seconds(60)) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP ROLE \(owner)"))
            return ()
        }
    }

    @Test func serveRefusesToRunAsAPrivilegedRoleUnlessTold() async throws {
        try await TestDatabase.withFresh { db in
            let serving = TestEnvironment.appEnvironment(databaseURL: db.url)
            var asOwner = serving
            asOwner["DATABASE_URL"] = db.url
            let refused = try await ServeProcessTests().run(["serve"], environment: asOwner)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("database role gate is a superuser"), "\(refused.stderr)")
            #expect(refused.stderr.contains("DATABASE_ALLOW_PRIVILEGED_ROLE"))

            // As the serving role, through its own login or by switching to it, serve starts.
            var switched = asOwner
            switched["DATABASE_ROLE"] = "gateapi_app"
            var allowed = asOwner
            allowed["DATABASE_ALLOW_PRIVILEGED_ROLE"] = "true"
            for (name, environment) in [("own-login", serving), ("set-role", switched), ("allowed", allowed)] {
                let replica = try await ReplicaTests.start(environment: environment, name: name)
                await replica.process.stop()
                #expect(replica.stderr.contains("serving as a privileged database role") == (name == "allowed"), "\(name)")
            }
        }
    }
}
