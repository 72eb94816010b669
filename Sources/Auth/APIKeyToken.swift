import Crypto
import Foundation
import GateCore

/// The API key format: `gk_<id>_<secret><checksum>`.
///
/// - `gk_` marks a GateAPI key, so secret scanners can find leaked ones;
/// - `id` (16 base32 characters, 80 random bits) finds the row without scanning;
/// - `secret` (40 base32 characters, 200 random bits) is what proves possession;
/// - `checksum` (7 base32 characters, CRC-32 of everything before it) lets a scanner
///   or the server reject a mistyped or made-up key without a database lookup.
public struct APIKeyToken: Sendable, Equatable {
    public static let prefix = "gk_"
    static let idLength = 16
    static let secretLength = 40
    static let checksumLength = 7

    public let id: String
    public let secret: String

    /// A new random key.
    public static func generate() -> APIKeyToken {
        APIKeyToken(id: Base32.random(count: idLength), secret: Base32.random(count: secretLength))
    }

    /// A new secret for an existing key id (rotation).
    public init(rotating id: String) {
        self.init(id: id, secret: Base32.random(count: Self.secretLength))
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// The full key as given to its owner, once.
    public var value: String {
        let body = "\(Self.prefix)\(id)_\(secret)"
        return body + Self.checksum(of: body)
    }

    /// Parses a presented key; nil when it is not well-formed or its checksum is wrong.
    public init?(parsing value: String) {
        let expected = Self.prefix.count + Self.idLength + 1 + Self.secretLength + Self.checksumLength
        guard value.utf8.count == expected, value.hasPrefix(Self.prefix) else { return nil }
        let bytes = Array(value.utf8)
        let idStart = Self.prefix.count
        let separator = idStart + Self.idLength
        guard bytes[separator] == UInt8(ascii: "_") else { return nil }
        let id = String(decoding: bytes[idStart..<separator], as: UTF8.self)
        let secret = String(decoding: bytes[(separator + 1)..<(separator + 1 + Self.secretLength)], as: UTF8.self)
        guard Base32.isValid(id), Base32.isValid(secret) else { return nil }
        let body = String(decoding: bytes[..<(bytes.count - Self.checksumLength)], as: UTF8.self)
        let checksum = String(decoding: bytes[(bytes.count - Self.checksumLength)...], as: UTF8.self)
        guard checksum == Self.checksum(of: body) else { return nil }
        self.init(id: id, secret: secret)
    }

    /// What is stored: SHA-256 of the whole key.
    public var hash: [UInt8] { Array(SHA256.hash(data: Data(value.utf8))) }

    /// Whether a string looks like a GateAPI key at all (prefix), to route it away from JWT parsing.
    public static func looksLikeKey(_ value: String) -> Bool { value.hasPrefix(prefix) }

    static func checksum(of body: String) -> String {
        Base32.encode(CRC32.checksum(Array(body.utf8)), count: checksumLength)
    }
}

/// CRC-32 (IEEE 802.3), the checksum secret scanners compute for key formats.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Compares two byte strings in time that depends only on their length.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}
