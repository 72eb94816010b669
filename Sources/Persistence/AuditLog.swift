import GateCore
import Logging
import PostgresNIO

/// Who did something, from where, in which request: the part of an audit event
/// that comes from the caller.
public struct AuditActor: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case apiKey = "api_key"
        case user
        case system
        case anonymous
        case cli
    }

    public var kind: Kind
    public var id: String?
    public var ip: String?
    public var requestID: String?

    public init(kind: Kind, id: String?, ip: String? = nil, requestID: String? = nil) {
        self.kind = kind
        self.id = id
        self.ip = ip
        self.requestID = requestID
    }
}

/// One audit row (SPEC §4 Audit). Details never hold secrets or message bodies.
public struct AuditEvent: Sendable {
    public enum Outcome: String, Sendable {
        case success, denied, failure
    }

    public var workspaceID: String
    public var actor: AuditActor
    public var action: String
    public var targetType: String?
    public var targetID: String?
    public var outcome: Outcome
    public var details: [String: JSONValue]

    public init(
        workspaceID: String, actor: AuditActor, action: String, targetType: String? = nil, targetID: String? = nil,
        outcome: Outcome = .success, details: [String: JSONValue] = [:]
    ) {
        self.workspaceID = workspaceID
        self.actor = actor
        self.action = action
        self.targetType = targetType
        self.targetID = targetID
        self.outcome = outcome
        self.details = details
    }
}

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
