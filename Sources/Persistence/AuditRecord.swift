import PostgresNIO

/// One sealed audit event as read back: the stored fields as text, exactly as they
/// were hashed (docs/audit.md), plus its place in the workspace's chain.
public struct AuditRecord: Sendable, Equatable {
    /// 1, 2, 3 … per workspace: the chain order and the pagination cursor.
    public var position: Int64
    public var seq: Int64
    /// RFC 3339, UTC, microseconds: the form that is hashed.
    public var occurredAt: String
    public var workspaceID: String
    public var actorType: String
    public var actorID: String?
    public var actorIP: String?
    public var action: String
    public var targetType: String?
    public var targetID: String?
    public var outcome: String
    public var requestID: String?
    /// Postgres's jsonb text of the details, byte for byte what was hashed.
    public var details: String
    /// Hex SHA-256; nil for the first event of a workspace.
    public var prevHash: String?
    public var hash: String

    /// The columns `init(row:)` reads, from `audit_chain c JOIN audit_events e`.
    static let columns = """
        c.position, e.seq, audit_time(e.occurred_at), e.workspace_id, e.actor_type, e.actor_id, e.actor_ip, e.action,
        e.target_type, e.target_id, e.outcome, e.request_id, e.details::text, encode(c.prev_hash, 'hex'), encode(c.hash, 'hex')
        """

    init(row: PostgresRow) throws {
        let (position, seq, occurredAt, workspaceID, actorType, actorID, actorIP, action, targetType, targetID, outcome,
            requestID, details, prevHash, hash) = try row.decode(
                (Int64, Int64, String, String, String, String?, String?, String, String?, String?, String, String?, String,
                 String?, String).self)
        self.init(
            position: position, seq: seq, occurredAt: occurredAt, workspaceID: workspaceID, actorType: actorType,
            actorID: actorID, actorIP: actorIP, action: action, targetType: targetType, targetID: targetID,
            outcome: outcome, requestID: requestID, details: details, prevHash: prevHash, hash: hash)
    }

    public init(
        position: Int64, seq: Int64, occurredAt: String, workspaceID: String, actorType: String, actorID: String?,
        actorIP: String?, action: String, targetType: String?, targetID: String?, outcome: String, requestID: String?,
        details: String, prevHash: String?, hash: String
    ) {
        self.position = position
        self.seq = seq
        self.occurredAt = occurredAt
        self.workspaceID = workspaceID
        self.actorType = actorType
        self.actorID = actorID
        self.actorIP = actorIP
        self.action = action
        self.targetType = targetType
        self.targetID = targetID
        self.outcome = outcome
        self.requestID = requestID
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
    }
}

/// Which events a query or an export wants. Every value is already validated; the
/// times are RFC 3339 text that Postgres parses (`from` inclusive, `to` exclusive).
public struct AuditFilter: Sendable, Equatable {
    public var from: String?
    public var to: String?
    public var action: String?
    public var actorID: String?
    public var targetID: String?
    public var outcome: String?

    public init(
        from: String? = nil, to: String? = nil, action: String? = nil, actorID: String? = nil, targetID: String? = nil,
        outcome: String? = nil
    ) {
        self.from = from
        self.to = to
        self.action = action
        self.actorID = actorID
        self.targetID = targetID
        self.outcome = outcome
    }
}
