/// Lowercase RFC 4648 base32 alphabet: case-insensitive-safe and URL-safe.
import Foundation

public enum Base32 {
    public static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func random(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt8(32)))] }, as: UTF8.self)
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
        // 80 random bits from two draws (each draw is a getrandom call; one per
        // character cost 16 system calls per id).
        var generator = SystemRandomNumberGenerator()
        var bits: UInt64 = generator.next()
        for i in 0..<16 {
            if i == 12 { bits = generator.next() }
            chars.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return "\(prefix)_" + String(decoding: chars, as: UTF8.self)
    }

    /// Whether `id` has the shape of an id made with `prefix` (cheap check before a lookup).
    public static func isWellFormed(_ id: String, prefix: String) -> Bool {
        guard id.hasPrefix("\(prefix)_") else { return false }
        let body = id.utf8.dropFirst(prefix.utf8.count + 1)
        return body.count == 26 && body.allSatisfy { alphabet.contains($0) }
    }
}
