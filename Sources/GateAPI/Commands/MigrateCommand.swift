import ArgumentParser
import Gate
import Persistence

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending SQL migrations from MIGRATIONS_DIR (safe to run concurrently).",
        discussion: "Connects with MIGRATION_DATABASE_URL (the owner of the schema), or DATABASE_URL when it is unset."
    )

    @Flag(help: "Only report applied and pending migrations.")
    var status = false

    func run() async throws {
        let (config, logger) = try Startup.configure()
        let migrator: Migrator
        do {
            migrator = Migrator(migrations: try Migration.load(from: config.migrationsDirectory), logger: logger)
        } catch {
            throw Startup.fail("\(error)")
        }
        do {
            try await withRunningPostgres(config.databaseRoles.migration, logger: logger) { client in
                if status {
                    let state = try await migrator.status(client)
                    print("applied: \(state.applied.map(String.init).joined(separator: ", "))")
                    print("pending: \(state.pending.map { "\($0.version)_\($0.name)" }.joined(separator: ", "))")
                } else {
                    let applied = try await migrator.migrate(client)
                    print(applied.isEmpty ? "schema is up to date" : "applied \(applied.count) migration(s): \(applied.map(String.init).joined(separator: ", "))")
                }
            }
        } catch let error as MigrationError {
            throw Startup.fail("\(error)")
        } catch {
            throw Startup.fail("cannot reach Postgres: \(describe(error))")
        }
    }
}
