import Actions
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/audit`: the query (`audit:read`), the streamed export
/// (`audit:export`) and the chain check (`audit:read`). docs/audit.md has the formats.
struct AuditController: Sendable {
    let log: ReadAuditLog<TimedAuditChain>
    let audit: SecurityAudit
    /// Exports and verifications running at once in this replica (`AUDIT_EXPORT_CONCURRENCY`)
    /// and per workspace (`AUDIT_EXPORT_PER_WORKSPACE`), so one tenant cannot take them all.
    let longOperations: ConcurrencyLimit
    /// An export is cut off after this long without the client taking any of it
    /// (`AUDIT_EXPORT_IDLE_SECONDS`), and after `exportMaxDuration` in all (`AUDIT_EXPORT_MAX_SECONDS`).
    var exportIdleTimeout: Duration = .seconds(30)
    var exportMaxDuration: Duration = .seconds(900)

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let read = workspace.group("audit").add(middleware: RequireScope(.auditRead, audit: audit))
        read.get(use: list)
        read.get("verify", use: verify)
        workspace.group("audit/export").add(middleware: RequireScope(.auditExport, audit: audit)).get(use: export)
    }

    /// Sealed events in chain order (oldest first), filtered; `next_cursor` continues
    /// after the last one. Events committed just now are chained first, so they show.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let filter = try AuditParameters.filter(request)
        let limit = try Pagination.limit(request, max: 500)
        let after = try AuditParameters.cursor(request)
        let records = try await log.page(workspaceID: workspace, filter: filter, after: after, limit: limit + 1)
        let page = records.prefix(limit)
        var body: [UInt8] = []
        body.reserveCapacity(600 * page.count + 64)
        body.append(contentsOf: #"{"items":["#.utf8)
        for (index, record) in page.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            AuditJSON.append(record, to: &body)
        }
        body.append(contentsOf: #"],"next_cursor":"#.utf8)
        AuditJSON.string(records.count > limit ? page.last.map { String($0.position) } : nil, to: &body)
        body.append(UInt8(ascii: "}"))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let slot = try place(workspace: workspace)
        defer { withExtendedLifetime(slot) {} }
        let result = try await log.verify(workspaceID: workspace)
        return try JSONResponse(body: Self.verificationJSON(result)).response(from: request, context: context)
    }

    static func verificationJSON(_ result: AuditVerification) -> JSONValue {
        [
            "ok": .bool(result.ok), "events_checked": .integer(Int(result.eventsChecked)),
            "first_bad_sequence": result.firstBadSequence.map { .integer(Int($0)) } ?? .null,
            "first_bad_position": result.firstBadPosition.map { .integer(Int($0)) } ?? .null,
            "reason": result.reason.map { .string($0) } ?? .null,
            "unsealed": .integer(Int(result.unsealed)),
            "head": result.headPosition.map { .object(["position": .integer(Int($0)), "hash": .string(result.headHash ?? "")]) } ?? .null,
        ]
    }

    /// The `audit.exported` event is written first (no record, no export), then what
    /// is committed is chained, then the chain is streamed up to its head.
    @Sendable func export(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let format = try AuditParameters.format(request)
        let filter = try AuditParameters.filter(request, timesOnly: true)
        // Taken before the export is recorded (a refused export is not one), held until
        // the stream ends.
        let slot = try place(workspace: workspace)
        let export = try await log.beginExport(
            workspaceID: workspace, format: format.rawValue, filter: filter, actor: SecurityAudit.actor(principal, context: context),
            trail: RequestAuditTrail(audit: audit, context: context))

        let logger = context.logger
        let stamp = RFC3339.format(Date()).replacingOccurrences(of: ":", with: "")
        let headers: HTTPFields = [
            .contentType: format.contentType, .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"audit-\(workspace)-\(stamp).\(format.rawValue)\"",
        ]
        let idle = exportIdleTimeout, total = exportMaxDuration
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { withExtendedLifetime(slot) {} }
            do {
                // A client that stops reading gives the slot back after `idle`.
                try await writeWithDeadlines(idle: idle, total: total, writer: &writer) { out in
                    if !format.header.isEmpty { try await out.write(ByteBuffer(string: format.header)) }
                    _ = try await export.stream { batch in try await out.write(format.encode(batch)) }
                }
            } catch {
                // Headers are gone: the connection is closed without the final chunk, so
                // the client sees a truncated transfer rather than a short "complete" file.
                logger.error("audit export aborted", metadata: ["workspace": "\(workspace)", "error": "\(describe(error))"])
                throw error
            }
            try await writer.finish(nil)
        })
    }

    /// A place among the exports and verifications running now, or 429.
    func place(workspace: String) throws -> ConcurrencyLimit.Slot {
        try longOperations.placeOrTooManyRequests(
            key: workspace,
            keyFull: "\(longOperations.perKey) audit exports or verifications of this workspace are already running on this server; retry later",
            replicaFull: "\(longOperations.limit) audit exports or verifications are already running on this server; retry later")
    }
}
