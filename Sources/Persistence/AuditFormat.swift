import Gate
import GateCore
import PostgresNIO

/// How audit events are written out: one JSON object (the API's event, and a JSONL
/// line) or one CSV record, a batch at a time, so an export of any size needs constant
/// memory. docs/audit.md defines both. Written into a byte array and handed over as
/// one buffer per batch: byte by byte, a `ByteBuffer` paid a runtime exclusivity
/// check per write (a tenth of an export's CPU).
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

    public func append(_ record: AuditRecord, to bytes: inout [UInt8]) {
        switch self {
        case .jsonl:
            AuditJSON.append(record, to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        case .csv:
            Self.appendCSV(record, to: &bytes)
        }
    }

    /// A batch of records, ready to send.
    public func encode(_ records: [AuditRecord]) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(600 * records.count)
        for record in records { append(record, to: &bytes) }
        return ByteBuffer(bytes: bytes)
    }

    public static let csvColumns = [
        "position", "seq", "occurred_at", "workspace", "actor_type", "actor_id", "actor_ip", "action", "target_type",
        "target_id", "outcome", "request_id", "details", "prev_hash", "hash",
    ]

    static func appendCSV(_ r: AuditRecord, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: "\(r.position),\(r.seq)".utf8)
        for cell in [
            r.occurredAt, r.workspaceID, r.actorType, r.actorID, r.actorIP, r.action, r.targetType, r.targetID, r.outcome,
            r.requestID, r.details, r.prevHash, r.hash,
        ] {
            bytes.append(UInt8(ascii: ","))
            cell?.withUnsafeReadableBytes { CSVCell.append($0, to: &bytes) }
        }
        bytes.append(contentsOf: [0x0D, 0x0A])
    }
}

/// One CSV cell, RFC 4180: quoted when it holds a comma, a quote, CR or LF, with
/// quotes doubled. Against formula injection, a cell that a spreadsheet could take
/// for a formula (first character = + - @ TAB CR) gets a leading `'`; so does a
/// cell that already starts with `'`, which keeps the rule reversible: a reader
/// drops one leading `'` from every cell that has one. An empty cell is null.
enum CSVCell {
    static func append(_ utf8: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        let guarded = utf8.first.map { [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D, UInt8(ascii: "'")].contains($0) } ?? false
        let quoted = utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0D || $0 == 0x0A }
        if quoted { bytes.append(UInt8(ascii: "\"")) }
        if guarded { bytes.append(UInt8(ascii: "'")) }
        if quoted {
            for byte in utf8 {
                if byte == UInt8(ascii: "\"") { bytes.append(byte) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes.append(contentsOf: utf8)
        }
    }
}

/// The JSON form of an event: what the query API lists and each JSONL line.
/// `details` is the stored jsonb text spliced in as is, so its numbers and key
/// order are exactly what was hashed. Strings are escaped as `JSONWriter` does.
public enum AuditJSON {
    public static func append(_ r: AuditRecord, to bytes: inout [UInt8]) {
        /// A member: its name with what precedes it, then the value as a JSON string.
        func member(_ prefix: StaticString, _ value: ByteBuffer?) {
            literal(prefix, to: &bytes)
            string(bytes: value, to: &bytes)
        }
        bytes.append(contentsOf: "{\"seq\":\(r.seq),\"position\":\(r.position)".utf8)
        member(",\"occurred_at\":", r.occurredAt)
        member(",\"workspace\":", r.workspaceID)
        member(",\"actor\":{\"type\":", r.actorType)
        member(",\"id\":", r.actorID)
        member(",\"ip\":", r.actorIP)
        member("},\"action\":", r.action)
        member(",\"target\":{\"type\":", r.targetType)
        member(",\"id\":", r.targetID)
        member("},\"outcome\":", r.outcome)
        member(",\"request_id\":", r.requestID)
        literal(",\"details\":", to: &bytes)
        r.details.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
        member(",\"prev_hash\":", r.prevHash)
        member(",\"hash\":", r.hash)
        bytes.append(UInt8(ascii: "}"))
    }

    /// A JSON string (or null).
    public static func string(_ value: String?, to bytes: inout [UInt8]) {
        guard var value else { return literal("null", to: &bytes) }
        value.withUTF8 { JSONWriter.appendString(utf8: UnsafeRawBufferPointer($0), to: &bytes) }
    }

    static func string(bytes value: ByteBuffer?, to bytes: inout [UInt8]) {
        guard let value else { return literal("null", to: &bytes) }
        value.withUnsafeReadableBytes { JSONWriter.appendString(utf8: $0, to: &bytes) }
    }

    private static func literal(_ text: StaticString, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
