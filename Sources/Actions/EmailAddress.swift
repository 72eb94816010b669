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

    static func isValidAddress(_ address: String) -> Bool {
        guard address.utf8.count <= 254, let at = address.lastIndex(of: "@") else { return false }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")
        guard (1...64).contains(local.count), local.first != ".", local.last != ".", !local.contains(".."),
            local.allSatisfy({ atext.contains($0) || $0 == "." })
        else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.count <= 253 else { return false }
        let ldh = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        for label in labels {
            guard (1...63).contains(label.count), label.first != "-", label.last != "-", label.allSatisfy({ ldh.contains($0) })
            else { return false }
        }
        guard let tld = labels.last, tld.count >= 2, tld.allSatisfy(\.isLetter) else { return false }
        return true
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
