import Foundation

/// Compact JSON text, byte for byte what the API's `JSONEncoder` (sorted keys, no
/// escaped slashes, whole-second ISO 8601 dates) writes, for the responses on the hot
/// path: `JSONEncoder` was a tenth of the server's CPU per job response.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .integer(let number): write(number)
        case .number(let number): write(number)
        case .string(let text): write(text)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            // Byte order of the UTF-8 keys, as `.sortedKeys` sorts them.
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(key)
                bytes.append(UInt8(ascii: ":"))
                write(members[key]!)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    public mutating func write(_ number: Int) {
        append(String(number))
    }

    public mutating func write(_ number: Double) {
        guard number.isFinite else { return append("null") }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        append(text)
    }

    /// A date as `JSONEncoder.DateEncodingStrategy.iso8601` writes it: UTC, whole
    /// seconds (rounded down).
    public mutating func write(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        bytes.append(UInt8(ascii: "\""))
        append(RFC3339Text.format(microseconds: seconds * 1_000_000))
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    public mutating func write(_ text: String) {
        Self.appendString(text, to: &bytes)
    }

    /// Whether a UTF-8 byte goes into a JSON string as it is (every escape JSON requires
    /// is of `"`, `\` or a control character).
    @inlinable public static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }

    /// A JSON string with minimal escaping: `"` and `\`, the short escapes of
    /// `\b \f \n \r \t`, other control characters as `\u00xx`, everything else as
    /// is. `JSONEncoder`'s rule and RFC 8785's, so `CanonicalJSON` shares it.
    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString(utf8: UnsafeRawBufferPointer($0), to: &bytes) }
    }

    /// The same for text that is already UTF-8 bytes (a column as Postgres sent it).
    public static func appendString(utf8: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copied in one go instead of byte by byte.
        if utf8.allSatisfy(Self.isPlain) {
            bytes.append(contentsOf: utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case 0x08: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "f"))
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    // Objects written member by member, keys in sorted order by the caller.
    public mutating func beginObject() { bytes.append(UInt8(ascii: "{")) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")) }

    /// A member's name (and the comma before it unless it is the first).
    public mutating func key(_ name: StaticString) {
        if bytes.last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    public mutating func write(_ text: String?) {
        if let text { write(text) } else { append("null") }
    }

    public mutating func write(_ date: Date?) {
        if let date { write(date) } else { append("null") }
    }

    public mutating func write(_ value: JSONValue?) {
        write(value ?? .null)
    }

    /// Text already known to be JSON (a literal, a number's digits).
    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }
}

/// A response body that writes its own JSON (see `JSONWriter`).
public protocol JSONWritable {
    func writeJSON(to writer: inout JSONWriter)
}
