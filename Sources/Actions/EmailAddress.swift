import GateCore

/// A mailbox as agents write it: `user@example.com` or `Display Name <user@example.com>`.
/// Deliberately stricter than RFC 5322 (no quoted local parts, no comments, no
/// groups): what is accepted here is unambiguous in a preview and safe in a header.
public struct EmailAddress: Sendable, Equatable {
    public let displayName: String?
    public let address: String

    public var domain: String {
        String(address[address.index(after: address.lastIndex(of: "@")!)...]).lowercased()
    }

    public init?(_ text: String) {
        let trimmed = text.trimmingSpaces()
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let name = String(trimmed[..<open]).trimmingSpaces()
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            guard Self.isValidAddress(address), !name.contains(where: { "<>\"\r\n".contains($0) }) else { return nil }
            self.displayName = name.isEmpty ? nil : name
            self.address = address
        } else {
            guard Self.isValidAddress(trimmed) else { return nil }
            self.displayName = nil
            self.address = trimmed
        }
    }

    /// The normalized text stored in params: `Name <address>` or `address`.
    public var text: String { displayName.map { "\($0) <\(address)>" } ?? address }

    /// On bytes: everything valid is ASCII, so any other byte fails a table lookup
    /// (the character-based version built two `Set<Character>`s per address).
    static func isValidAddress(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
        guard (1...64).contains(local.count), local.first != dot, local.last != dot,
            local.allSatisfy({ atext[Int($0)] || $0 == dot }),
            !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot })
        else { return false }
        let labels = domain.split(separator: dot, omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.count <= 253 else { return false }
        for label in labels {
            guard (1...63).contains(label.count), label.first != hyphen, label.last != hyphen,
                label.allSatisfy({ letterDigitHyphen[Int($0)] })
            else { return false }
        }
        guard let tld = labels.last, tld.count >= 2, tld.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A })
        else { return false }
        return true
    }

    private static let atext = table("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")
    private static let letterDigitHyphen = table("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")

    private static func table(_ allowed: String) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        for byte in allowed.utf8 { table[Int(byte)] = true }
        return table
    }
}
