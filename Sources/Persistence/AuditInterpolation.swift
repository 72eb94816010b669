import GateCore
import PostgresNIO

extension PostgresQuery.StringInterpolation {
    /// `INSERT INTO audit_events … SELECT … FROM <source>`: the audit row of a change
    /// made in an earlier CTE of the same statement, so both commit together in one
    /// round trip. `targetIDColumn` names the column of `source` holding the target id.
    /// With `workspaceColumn`, each row's workspace comes from that column of `source`
    /// (a sweep over many workspaces) instead of `event.workspaceID`; with
    /// `detailsColumn`, a jsonb column of `source` is merged into the details.
    /// The values that may be NULL are cast, so the statement can be prepared (`PreparedQuery`).
    mutating func appendInterpolation(
        auditFrom source: String, targetIDColumn: String, event: AuditEvent, workspaceColumn: String? = nil,
        detailsColumn: String? = nil
    ) {
        appendLiteral(
            "INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome, request_id, details) SELECT "
        )
        if let workspaceColumn {
            appendLiteral("\(source).\(workspaceColumn)")
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
        appendLiteral(", \(source).\(targetIDColumn), ")
        appendInterpolation(event.outcome.rawValue)
        appendLiteral(", ")
        appendInterpolation(event.actor.requestID)
        appendLiteral("::text, ")
        appendInterpolation(JSONValue.object(event.details).jsonText)
        appendLiteral("::jsonb")
        if let detailsColumn { appendLiteral(" || \(source).\(detailsColumn)") }
        appendLiteral(" FROM \(source)")
    }
}
