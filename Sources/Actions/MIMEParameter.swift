/// A MIME header parameter (`filename`, `name`) as RFC 2045 and RFC 2231 write it:
/// a quoted string for short printable ASCII; otherwise UTF-8 percent-encoded
/// (`filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`), in numbered continuations
/// (`filename*0*=…; filename*1*=…`) when one line would pass 78 characters. The
/// value is one header's tail: callers start it on a folded line.
public enum MIMEParameter {
    /// Whole continuation lines stay within 78 characters with the fold's space.
    static let maxSectionCharacters = 60
    /// A parameter alone on a folded line (a space before, `;` after) within 78.
    static let maxLineCharacters = 76

    static func encode(_ name: String, _ value: String) -> String {
        let quotable = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
        let quoted = "\(name)=\"\(value)\""
        if quotable, quoted.utf8.count <= maxLineCharacters { return quoted }
        let encoded = percentEncoded(value)
        let single = "\(name)*=UTF-8''\(encoded.joined())"
        if single.utf8.count <= maxLineCharacters { return single }
        // Sections never split a %XX triple.
        var sections: [String] = []
        var current = "UTF-8''"
        for piece in encoded {
            if current.utf8.count + piece.utf8.count > maxSectionCharacters {
                sections.append(current)
                current = ""
            }
            current += piece
        }
        sections.append(current)
        return sections.enumerated().map { "\(name)*\($0.offset)*=\($0.element)" }.joined(separator: ";\r\n ")
    }

    /// `UTF-8''…`: the value as an RFC 2231 / RFC 8187 extended value (HTTP's
    /// `Content-Disposition: attachment; filename*=` uses the same encoding).
    public static func extendedValue(_ value: String) -> String {
        "UTF-8''" + percentEncoded(value).joined()
    }

    /// RFC 2231 `attribute-char`s stay; every other UTF-8 byte becomes `%XX`. One element per character written.
    private static func percentEncoded(_ value: String) -> [String] {
        let kept = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~".utf8)
        let digits = Array("0123456789ABCDEF".utf8)
        return value.utf8.map { byte in
            if kept.contains(byte) { return String(UnicodeScalar(byte)) }
            return String(decoding: [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }
    }
}
