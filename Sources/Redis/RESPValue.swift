/// One reply of the Redis serialization protocol (RESP2), as hiredis parses it.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case bulkString([UInt8])
    case integer(Int64)
    case error(String)
    case array([RESPValue])
    case null

    /// The reply as text, for simple and bulk strings; nil otherwise.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The reply as an integer, for integer replies and bulk strings holding digits.
    public var integer: Int64? {
        switch self {
        case .integer(let i): return i
        case .bulkString, .simpleString: return string.flatMap { Int64($0) }
        default: return nil
        }
    }

    public var isNull: Bool { self == .null }
}
