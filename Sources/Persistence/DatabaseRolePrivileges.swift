import Gate
import Logging
import PostgresNIO

/// What the role a connection acts as may do beyond serving GateAPI (docs/operations.md
/// "Database roles"). `gate-api serve` refuses to start when the list is not empty: a role that
/// could rewrite the audit log or the schema must not run the server by accident.
public struct DatabaseRolePrivileges: Sendable, Equatable {
    /// The role queries run as (`current_user`), and the login (`session_user`): they
    /// differ when the connection switched roles (`DATABASE_ROLE`).
    public let role: String
    public let login: String
    /// One phrase per excess privilege, e.g. "is a superuser"; empty for the serving role.
    public let excess: [String]

    /// Reads them for whatever role `client`'s connections act as.
    public static func of(_ client: PostgresClient, logger: Logger) async throws -> DatabaseRolePrivileges {
        // Owning audit_events (or being a member of its owner) means ALTER, DROP and
        // DISABLE TRIGGER; the table privileges are what the migration revokes.
        // Superusers pass every check below as well; they are named as such.
        let rows = try await client.query(
            """
            SELECT current_user::text, session_user::text, r.rolsuper, r.rolcreaterole,
                pg_has_role(current_user, c.relowner, 'MEMBER'),
                has_table_privilege('public.audit_events', 'UPDATE, DELETE, TRUNCATE, TRIGGER')
            FROM pg_roles r, pg_class c
            WHERE r.rolname = current_user AND c.oid = 'public.audit_events'::regclass
            """, logger: logger)
        for try await (role, login, superuser, createRole, owner, auditWrite) in rows.decode(
            (String, String, Bool, Bool, Bool, Bool).self)
        {
            var excess: [String] = []
            if superuser { excess.append("is a superuser") }
            if createRole { excess.append("may create roles (CREATEROLE)") }
            if owner && !superuser { excess.append("owns the tables (or is a member of their owner)") }
            if auditWrite && !superuser && !owner {
                excess.append("may UPDATE, DELETE, TRUNCATE or add triggers to audit_events")
            }
            return DatabaseRolePrivileges(role: role, login: login, excess: excess)
        }
        throw DatabaseRolePrivilegesError.noAuditTable
    }
}

public enum DatabaseRolePrivilegesError: Error, CustomStringConvertible {
    case noAuditTable
    public var description: String { "the database has no audit_events table; run `gate-api migrate`" }
}
