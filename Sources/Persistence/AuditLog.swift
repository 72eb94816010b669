import Gate
import GateCore
import Logging
import PostgresNIO

/// The one way audit rows are written. `append` runs inside the caller's
/// transaction, so a change and its audit row commit together or not at all.
public enum AuditLog {
    public static func append(_ event: AuditEvent, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(insert(event), logger: logger)
    }

    /// For events that are not part of another change (a denied request).
    public static func record(_ event: AuditEvent, client: PostgresClient, logger: Logger) async throws {
        try await client.query(insert(event), logger: logger)
    }

    static func insert(_ event: AuditEvent) -> PostgresQuery {
        let details = JSONValue.object(event.details).jsonText
        return """
            INSERT INTO audit_events
                (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome, request_id, details)
            VALUES (\(event.workspaceID), \(event.actor.kind.rawValue), \(event.actor.id), \(event.actor.ip),
                    \(event.action), \(event.targetType), \(event.targetID), \(event.outcome.rawValue),
                    \(event.actor.requestID), \(details)::jsonb)
            """
    }
}
