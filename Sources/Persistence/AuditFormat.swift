import GateCore
import PostgresNIO

/// How audit events are written out: one JSON object (the API's event, and a JSONL
/// line) or one CSV record. Written straight into a ByteBuffer, a batch at a time,
/// so an export of any size needs constant memory. docs/audit.md defines both.
public enum AuditFormat: String, Sendable, CaseIterable {
    case jsonl
    case csv

    public var contentType: String {
        switch self {
        case .jsonl: return "application/x-ndjson; charset=utf-8"
        case .csv: return "text/csv; charset=utf-8; header=present"
        }
    }

    /// What comes before the first record.
    public var header: String {
        switch self {
        case .jsonl: return ""
        case .csv: return Self.csvColumns.joined(separator: ",") + "\r\n"
        }
    }

    public func append(_ record: AuditRecord, to buffer: inout ByteBuffer) {
        switch self {
        case .jsonl:
            AuditJSON.append(record, to: &buffer)
            buffer.writeInteger(UInt8(ascii: "\n"))
        case .csv:
            Self.appendCSV(record, to: &buffer)
        }
    }

    public static let csvColumns = [
        "position", "seq", "occurred_at", "workspace", "actor_type", "actor_id", "actor_ip", "action", "target_type",
        "target_id", "outcome", "request_id", "details", "prev_hash", "hash",
    ]

    static func appendCSV(_ r: AuditRecord, to buffer: inout ByteBuffer) {
        let cells: [String?] = [
            String(r.position), String(r.seq), r.occurredAt, r.workspaceID, r.actorType, r.actorID, r.actorIP, r.action,
            r.targetType, r.targetID, r.outcome, r.requestID, r.details, r.prevHash, r.hash,
        ]
        for (index, cell) in cells.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            if let cell { CSVCell.append(cell, to: &buffer) }
        }
        buffer.writeString("\r\n")
    }
}

/// One CSV cell, RFC 4180: quoted when it holds a comma, a quote, CR or LF, with
/// quotes doubled. Against formula injection, a cell that a spreadsheet could take
/// for a formula (first character = + - @ TAB CR) gets a leading `'`; so does a
/// cell that already starts with `'`, which keeps the rule reversible: a reader
/// drops one leading `'` from every cell that has one. An empty cell is null.
enum CSVCell {
    static func append(_ value: String, to buffer: inout ByteBuffer) {
        let utf8 = value.utf8
        let guarded = utf8.first.map { [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D, UInt8(ascii: "'")].contains($0) } ?? false
        let quoted = utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0D || $0 == 0x0A }
        if quoted { buffer.writeInteger(UInt8(ascii: "\"")) }
        if guarded { buffer.writeInteger(UInt8(ascii: "'")) }
        if quoted {
            for byte in utf8 {
                if byte == UInt8(ascii: "\"") { buffer.writeInteger(byte) }
                buffer.writeInteger(byte)
            }
            buffer.writeInteger(UInt8(ascii: "\""))
        } else {
            buffer.writeString(value)
        }
    }
}

/// The JSON form of an event: what the query API lists and each JSONL line.
/// `details` is the stored jsonb text spliced in as is, so its numbers and key
/// order are exactly what was hashed.
public enum AuditJSON {
    public static func append(_ r: AuditRecord, to buffer: inout ByteBuffer) {
        buffer.writeString("{\"seq\":\(r.seq),\"position\":\(r.position),\"occurred_at\":")
        string(r.occurredAt, to: &buffer)
        buffer.writeString(",\"workspace\":")
        string(r.workspaceID, to: &buffer)
        buffer.writeString(",\"actor\":{\"type\":")
        string(r.actorType, to: &buffer)
        buffer.writeString(",\"id\":")
        string(r.actorID, to: &buffer)
        buffer.writeString(",\"ip\":")
        string(r.actorIP, to: &buffer)
        buffer.writeString("},\"action\":")
        string(r.action, to: &buffer)
        buffer.writeString(",\"target\":{\"type\":")
        string(r.targetType, to: &buffer)
        buffer.writeString(",\"id\":")
        string(r.targetID, to: &buffer)
        buffer.writeString("},\"outcome\":")
        string(r.outcome, to: &buffer)
        buffer.writeString(",\"request_id\":")
        string(r.requestID, to: &buffer)
        buffer.writeString(",\"details\":")
        buffer.writeString(r.details)
        buffer.writeString(",\"prev_hash\":")
        string(r.prevHash, to: &buffer)
        buffer.writeString(",\"hash\":")
        string(r.hash, to: &buffer)
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// A JSON string (or null): `"` `\` and control characters escaped, the rest as UTF-8.
    public static func string(_ value: String?, to buffer: inout ByteBuffer) {
        guard let value else {
            buffer.writeString("null")
            return
        }
        buffer.writeInteger(UInt8(ascii: "\""))
        let utf8 = value.utf8
        // Scanned as contiguous bytes (native strings are): the generic UTF8View walk was
        // the export's single biggest function (bench/out/prof-export-1204).
        let clean = utf8.withContiguousStorageIfAvailable { $0.allSatisfy(JSONWriter.isPlain) } ?? utf8.allSatisfy(JSONWriter.isPlain)
        if clean {
            buffer.writeString(value)
        } else {
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): buffer.writeString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeString("\\\\")
                case 0x0A: buffer.writeString("\\n")
                case 0x0D: buffer.writeString("\\r")
                case 0x09: buffer.writeString("\\t")
                case ..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeString("\\u00")
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0xF)])
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
