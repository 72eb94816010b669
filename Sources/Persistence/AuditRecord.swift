import Gate
import PostgresNIO

/// One sealed audit event as read back: the stored fields as text, exactly as they
/// were hashed (docs/audit.md), plus its place in the workspace's chain.
/// The text fields are the row's own bytes (slices of what Postgres sent, UTF-8, nil
/// for NULL): an export writes them out without making a `String` of each.
public struct AuditRecord: Sendable, Equatable {
    /// 1, 2, 3 … per workspace: the chain order and the pagination cursor.
    public var position: Int64
    public var seq: Int64
    /// RFC 3339, UTC, microseconds: the form that is hashed.
    var occurredAt: ByteBuffer
    var workspaceID: ByteBuffer
    var actorType: ByteBuffer
    var actorID: ByteBuffer?
    var actorIP: ByteBuffer?
    var action: ByteBuffer
    var targetType: ByteBuffer?
    var targetID: ByteBuffer?
    var outcome: ByteBuffer
    var requestID: ByteBuffer?
    /// Postgres's jsonb text of the details, byte for byte what was hashed.
    var details: ByteBuffer
    /// Hex SHA-256; nil for the first event of a workspace.
    var prevHash: ByteBuffer?
    var hash: ByteBuffer

    /// The columns `init(row:)` reads, from `audit_chain c JOIN audit_events e`.
    static let columns = """
        c.position, e.seq, audit_time(e.occurred_at), e.workspace_id, e.actor_type, e.actor_id, e.actor_ip, e.action,
        e.target_type, e.target_id, e.outcome, e.request_id, e.details::text, encode(c.prev_hash, 'hex'), encode(c.hash, 'hex')
        """

    /// Read cell by cell, keeping each text cell's bytes: `row.decode` of a 15-column
    /// tuple resolved generic metadata for every column of every row, and made 13
    /// strings the export only copied out again (bench/HISTORY.md, eighth round).
    init(row: PostgresRow) throws {
        var cells = row.makeIterator()
        position = try cells.int8()
        seq = try cells.int8()
        occurredAt = try cells.text()
        workspaceID = try cells.text()
        actorType = try cells.text()
        actorID = try cells.optionalText()
        actorIP = try cells.optionalText()
        action = try cells.text()
        targetType = try cells.optionalText()
        targetID = try cells.optionalText()
        outcome = try cells.text()
        requestID = try cells.optionalText()
        details = try cells.text()
        prevHash = try cells.optionalText()
        hash = try cells.text()
    }
}

extension PostgresRow.Iterator {
    /// The next cell, which the query must have.
    fileprivate mutating func cell() throws -> PostgresCell {
        guard let cell = next() else { throw AuditRowError.missingColumn }
        return cell
    }

    fileprivate mutating func int8() throws -> Int64 {
        let cell = try cell()
        if cell.format == .binary, cell.dataType == .int8, let bytes = cell.bytes, bytes.readableBytes == 8,
            let value = bytes.getInteger(at: bytes.readerIndex, as: Int64.self)
        {
            return value
        }
        return try cell.decode(Int64.self)
    }

    /// A text cell's bytes: the same in either format (UTF-8, the database's encoding).
    fileprivate mutating func optionalText() throws -> ByteBuffer? {
        let cell = try cell()
        guard cell.dataType == .text || cell.dataType == .varchar else { throw AuditRowError.notText(cell.columnName) }
        return cell.bytes
    }

    fileprivate mutating func text() throws -> ByteBuffer {
        guard let value = try optionalText() else { throw AuditRowError.unexpectedNull }
        return value
    }
}

/// A row that does not have the shape `AuditRecord.columns` asks for (a programming error).
enum AuditRowError: Error {
    case missingColumn
    case unexpectedNull
    case notText(String)
}
