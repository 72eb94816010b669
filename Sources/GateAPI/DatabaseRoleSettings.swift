import Gate
import Persistence
import PostgresNIO

/// Which database role does what (docs/operations.md "Database roles"). `gate-api migrate` connects
/// with `MIGRATION_DATABASE_URL` (the owner of the schema; `DATABASE_URL` when unset);
/// `serve` and the other commands connect with `DATABASE_URL`, as the serving role
/// `gateapi_app` that migration 0016 creates and grants. Where only one login exists
/// (Render's database gives one user), `DATABASE_ROLE=gateapi_app` makes every serving
/// connection switch to that role as it opens; that protects less, since any SQL sent
/// as the login can switch back (RESET ROLE).
struct DatabaseRoleSettings: Sendable {
    /// How `gate-api migrate` connects (never switched to `DATABASE_ROLE`).
    var migration: PostgresClient.Configuration
    /// The role serving connections switch to (`DATABASE_ROLE`), if any.
    var servingRole: String?
    /// `serve` starts even when its role could change the audit log or the schema
    /// (`DATABASE_ALLOW_PRIVILEGED_ROLE`); it refuses by default.
    var allowPrivilegedRole: Bool

    /// Parses the variables; `serving` is `DATABASE_URL`'s configuration, which gets
    /// the role switch when `DATABASE_ROLE` is set.
    static func parse(
        serving: inout PostgresClient.Configuration, databaseURL: String, migrationURL: String?, role: String?,
        allowPrivilegedRole: Bool
    ) throws(ConfigError) -> DatabaseRoleSettings {
        let migration: PostgresClient.Configuration
        do {
            // One connection is all a migration uses.
            migration = try DatabaseConfiguration.parse(migrationURL ?? databaseURL, maximumConnections: 2)
        } catch {
            throw ConfigError(variable: migrationURL == nil ? "DATABASE_URL" : "MIGRATION_DATABASE_URL", problem: "\(error)")
        }
        if let role {
            // Sent as a start-up parameter, so it must be a plain role name.
            guard role.wholeMatch(of: /[a-z_][a-z0-9_]{0,62}/) != nil else {
                throw ConfigError(variable: "DATABASE_ROLE", problem: "must be a role name of lower-case letters, digits and _")
            }
            // The server applies it as `SET ROLE` when the connection opens, before the
            // first query: no pooled connection is ever used as the login itself.
            serving.options.additionalStartupParameters.append(("role", role))
        }
        return DatabaseRoleSettings(migration: migration, servingRole: role, allowPrivilegedRole: allowPrivilegedRole)
    }
}
