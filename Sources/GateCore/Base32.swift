/// Lowercase RFC 4648 base32 alphabet: case-insensitive-safe and URL-safe.
import Foundation

public enum Base32 {
    public static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func random(count: Int) -> String {
        var chars: [UInt8] = []
        appendRandom(count, from: alphabet, to: &chars)
        return String(decoding: chars, as: UTF8.self)
    }

    /// `count` random characters of a 32-character `alphabet`, five bits each from
    /// 64-bit draws: a draw is a getrandom call, and one per character cost a system
    /// call each.
    static func appendRandom(_ count: Int, from alphabet: [UInt8], to chars: inout [UInt8]) {
        precondition(alphabet.count == 32)
        var generator = SystemRandomNumberGenerator()
        var bits: UInt64 = 0
        for index in 0..<count {
            if index % 12 == 0 { bits = generator.next() }
            chars.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
    }

    public static func encode(_ value: UInt32, count: Int) -> String {
        var value = UInt64(value)
        var chars: [UInt8] = []
        for _ in 0..<count {
            chars.append(alphabet[Int(value & 31)])
            value >>= 5
        }
        return String(decoding: chars.reversed(), as: UTF8.self)
    }

    public static func isValid(_ text: String) -> Bool {
        text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x32 && $0 <= 0x37) }
    }
}

/// Ids that sort by creation time: `job_` + 10 characters of millisecond timestamp +
/// 16 characters (80 bits) of randomness, in Crockford's base32 (whose alphabet is in
/// ASCII order). Unguessable like a random id, and `ORDER BY id` is creation order,
/// which makes keyset pagination a plain index range scan.
public enum SortableID {
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    public static func make(prefix: String, now: Date = Date()) -> String {
        var chars: [UInt8] = []
        var millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var time: [UInt8] = []
        for _ in 0..<10 {
            time.append(alphabet[Int(millis & 31)])
            millis >>= 5
        }
        chars += time.reversed()
        Base32.appendRandom(16, from: alphabet, to: &chars)
        return "\(prefix)_" + String(decoding: chars, as: UTF8.self)
    }

    /// Whether `id` has the shape of an id made with `prefix` (cheap check before a lookup).
    public static func isWellFormed(_ id: String, prefix: String) -> Bool {
        guard id.hasPrefix("\(prefix)_") else { return false }
        let body = id.utf8.dropFirst(prefix.utf8.count + 1)
        return body.count == 26 && body.allSatisfy { alphabet.contains($0) }
    }
}
