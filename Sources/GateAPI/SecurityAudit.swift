import Auth
import Gate
import GateCore
import Hummingbird
import Logging
import Persistence
import PostgresNIO

/// Writes the audit rows for refused requests (authentication and authorization
/// denials). A denial that cannot be recorded is answered 503: every security event
/// is in the audit log, or the request did not get an answer at all.
struct SecurityAudit: Sendable {
    let postgres: PostgresClient
    let timeout: Duration

    static func actor(_ principal: Principal?, context: AppRequestContext) -> AuditActor {
        switch principal?.kind {
        case .apiKey: return AuditActor(kind: .apiKey, id: principal?.id, ip: context.remoteIP, requestID: context.requestID)
        case .user: return AuditActor(kind: .user, id: principal?.id, ip: context.remoteIP, requestID: context.requestID)
        case nil: return AuditActor(kind: .anonymous, id: nil, ip: context.remoteIP, requestID: context.requestID)
        }
    }

    func denied(
        workspace: String, action: String, principal: Principal?, claimedID: String? = nil, reason: String,
        details: [String: JSONValue] = [:], request: Request, context: AppRequestContext
    ) async throws {
        var actor = Self.actor(principal, context: context)
        if actor.id == nil { actor.id = claimedID.map(Self.storable) }
        let event = AuditEvent(
            workspaceID: workspace, actor: actor, action: action, targetType: "route",
            targetID: Self.storable("\(request.method.rawValue) \(context.endpointPath ?? request.uri.path)"), outcome: .denied,
            details: Self.storable(details.merging(["reason": .string(reason)]) { $1 }))
        try await write(event, context: context)
    }

    /// A refusal that is not about access (e.g. a job the policy does not allow), or
    /// (`outcome: .success`) an event that changes no row of its own (an audit export).
    func record(
        workspace: String, action: String, principal: Principal, targetType: String, targetID: String?,
        details: [String: JSONValue], outcome: AuditEvent.Outcome = .denied, context: AppRequestContext
    ) async throws {
        let event = AuditEvent(
            workspaceID: workspace, actor: Self.actor(principal, context: context), action: action,
            targetType: targetType, targetID: targetID.map(Self.storable), outcome: outcome, details: Self.storable(details))
        try await write(event, context: context)
    }

    /// Client-sent text in an audit row (a refused action's name, unknown field names):
    /// Postgres text and jsonb cannot hold U+0000, so it is recorded as U+FFFD rather
    /// than failing the request with a 500.
    static func storable(_ text: String) -> String {
        guard text.unicodeScalars.contains("\u{0}") else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }))
    }

    static func storable(_ details: [String: JSONValue]) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: details.map { (storable($0.key), storable($0.value)) })
    }

    static func storable(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): return .string(storable(text))
        case .array(let items): return .array(items.map(storable))
        case .object(let members): return .object(storable(members))
        default: return value
        }
    }

    func write(_ event: AuditEvent, context: AppRequestContext) async throws {
        // A deferred rate-limit charge is taken before anything is written: a client
        // past its limit gets 429 and leaves no row.
        try await context.rateLimit?.take()
        let postgres = self.postgres
        let logger = context.logger
        try await withTimeout(timeout, dependency: "postgres") {
            try await AuditLog.record(event, client: postgres, logger: logger)
        }
    }
}

/// A request's audit trail, as the use cases write to it: client-sent text made
/// storable, the request's deferred rate-limit charge taken before the row.
struct RequestAuditTrail: AuditTrail {
    let audit: SecurityAudit
    let context: AppRequestContext

    func record(_ event: AuditEvent) async throws {
        var event = event
        event.targetID = event.targetID.map(SecurityAudit.storable)
        event.details = SecurityAudit.storable(event.details)
        try await audit.write(event, context: context)
    }
}
