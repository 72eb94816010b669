import Gate
import GateCore
import PostgresNIO

/// One audit row per row of `source`, an earlier CTE of the same statement; see
/// `appendInterpolation(auditFrom:)`.
struct AuditFrom {
    var source: String
    /// The column of `source` holding the target id.
    var targetIDColumn: String
    var event: AuditEvent
    /// With it, each row's workspace comes from this column of `source` (a sweep over
    /// many workspaces) instead of `event.workspaceID`.
    var workspaceColumn: String? = nil
    /// With it, this jsonb column of `source` is merged into the details.
    var detailsColumn: String? = nil
}

extension PostgresQuery.StringInterpolation {
    /// `INSERT INTO audit_events … SELECT … FROM <source>`: the audit row of a change
    /// made in an earlier CTE of the same statement, so both commit together in one
    /// round trip. The values that may be NULL are cast, so the statement can be
    /// prepared (`PreparedQuery`).
    mutating func appendInterpolation(
        auditFrom source: String, targetIDColumn: String, event: AuditEvent, workspaceColumn: String? = nil,
        detailsColumn: String? = nil
    ) {
        appendInterpolation(
            auditFrom: [
                AuditFrom(
                    source: source, targetIDColumn: targetIDColumn, event: event, workspaceColumn: workspaceColumn,
                    detailsColumn: detailsColumn)
            ])
    }

    /// The audit rows of several sources in one INSERT, in the order given (one
    /// `UNION ALL`): two audit CTEs of one statement would get their sequence numbers in
    /// no defined order.
    mutating func appendInterpolation(auditFrom sources: [AuditFrom]) {
        appendLiteral(
            "INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome, request_id, details) "
        )
        for (index, from) in sources.enumerated() {
            if index > 0 { appendLiteral(" UNION ALL ") }
            appendAuditSelect(from)
        }
    }

    private mutating func appendAuditSelect(_ from: AuditFrom) {
        let event = from.event
        appendLiteral("SELECT ")
        if let workspaceColumn = from.workspaceColumn {
            appendLiteral("\(from.source).\(workspaceColumn)")
        } else {
            appendInterpolation(event.workspaceID)
        }
        appendLiteral(", ")
        appendInterpolation(event.actor.kind.rawValue)
        appendLiteral(", ")
        appendInterpolation(event.actor.id)
        appendLiteral("::text, ")
        appendInterpolation(event.actor.ip)
        appendLiteral("::text, ")
        appendInterpolation(event.action)
        appendLiteral(", ")
        appendInterpolation(event.targetType)
        appendLiteral("::text, \(from.source).\(from.targetIDColumn), ")
        appendInterpolation(event.outcome.rawValue)
        appendLiteral(", ")
        appendInterpolation(event.actor.requestID)
        appendLiteral("::text, ")
        appendInterpolation(JSONValue.object(event.details).jsonText)
        appendLiteral("::jsonb")
        if let detailsColumn = from.detailsColumn { appendLiteral(" || \(from.source).\(detailsColumn)") }
        appendLiteral(" FROM \(from.source)")
    }
}
