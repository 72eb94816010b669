import GateCore

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
