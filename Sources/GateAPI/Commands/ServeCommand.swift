import ArgumentParser
import Gate
import Hummingbird
import Logging
import Persistence
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API (stops gracefully on SIGTERM or SIGINT)."
    )

    func run() async throws {
        let (config, logger) = try Startup.configure(logToStandardError: false)
        // Refuse to serve on a schema older than this build expects.
        do {
            let migrator = Migrator(migrations: try Migration.load(from: config.migrationsDirectory), logger: logger)
            let (status, privileges) = try await withRunningPostgres(config.database, logger: logger) { client in
                let status = try await migrator.status(client)
                // Only a migrated schema has the audit table the privilege check reads.
                return (status, status.pending.isEmpty ? try await DatabaseRolePrivileges.of(client, logger: logger) : nil)
            }
            if let first = status.pending.first {
                throw Startup.fail(
                    "database schema is behind: \(status.pending.count) pending migration(s) starting at \(first.version)_\(first.name); run `gate-api migrate`")
            }
            if let privileges {
                try Self.checkRole(privileges, allowPrivileged: config.databaseRoles.allowPrivilegedRole, logger: logger)
            }
            if !status.unknown.isEmpty {
                logger.warning("database has migrations this build does not know", metadata: ["versions": "\(status.unknown)"])
            }
        } catch let error as ExitCode {
            throw error
        } catch let error as MigrationError {
            throw Startup.fail("\(error)")
        } catch {
            throw Startup.fail("cannot reach Postgres: \(describe(error))")
        }

        let services: AppServices
        do {
            services = try await AppServices(config: config, logger: logger)
        } catch {
            throw Startup.fail("\(error)")
        }
        let app = buildApplication(config: config, services: services, logger: logger)
        try await Self.serviceGroup(running: app, shutdownTimeout: config.shutdownTimeout, logger: logger).run()
    }

    /// Least privilege by default (docs/operations.md "Database roles"): the server must not run as a
    /// role that could rewrite the audit log or the schema, unless the operator says so.
    static func checkRole(_ privileges: DatabaseRolePrivileges, allowPrivileged: Bool, logger: Logger) throws {
        let metadata: Logger.Metadata = ["role": "\(privileges.role)", "login": "\(privileges.login)"]
        guard !privileges.excess.isEmpty else {
            logger.info("serving as a least-privileged database role", metadata: metadata)
            return
        }
        let problem = "database role \(privileges.role) \(privileges.excess.joined(separator: ", "))"
        guard allowPrivileged else {
            throw Startup.fail(
                "\(problem): serve connects as the serving role gateapi_app (DATABASE_URL, or DATABASE_ROLE) and migrates as the owner (MIGRATION_DATABASE_URL); DATABASE_ALLOW_PRIVILEGED_ROLE=true starts anyway")
        }
        logger.warning("serving as a privileged database role (DATABASE_ALLOW_PRIVILEGED_ROLE)", metadata: metadata.merging(
            ["excess": "\(privileges.excess.joined(separator: ", "))"]) { $1 })
    }

    /// Runs `app` until SIGTERM or SIGINT. A service stuck in its graceful shutdown must
    /// not keep a replica alive until the platform kills it: past `shutdownTimeout` the
    /// rest are cancelled, and a service that ignores cancellation too ends the process
    /// (ServiceLifecycle traps).
    static func serviceGroup(
        running app: any Service, shutdownTimeout: Duration, handlingSignals: Bool = true, logger: Logger
    ) -> ServiceGroup {
        var group = ServiceGroupConfiguration(
            services: [.init(service: LoggedService(name: "gate-api", base: app, logger: logger))],
            gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [],
            logger: logger)
        group.maximumGracefulShutdownDuration = shutdownTimeout
        group.maximumCancellationDuration = Duration.seconds(5)
        return ServiceGroup(configuration: group)
    }
}
