import Foundation

/// Reads a MIME message back the way a mail client would, so tests can check that what
/// GateAPI sends means what the reviewer approved: unfolds headers, decodes RFC 2047
/// encoded-words (B and Q; each word must hold whole UTF-8 characters, as RFC 2047
/// requires), parses address lists (display names as atoms, quoted-strings or
/// encoded-words), and decodes single-part and multipart bodies (base64,
/// quoted-printable, 7bit/8bit). Strict where a lenient reader would hide a bug:
/// bare LF line endings and undecodable words are errors.
public struct MIMEReader: Sendable {
    public struct Mailbox: Sendable, Equatable, CustomStringConvertible {
        public init(name: String?, address: String) { (self.name, self.address) = (name, address) }
        public var name: String?
        public var address: String
        public var description: String { name.map { "\($0) <\(address)>" } ?? address }
    }

    public struct Part: Sendable {
        /// Unfolded, in order, names as written.
        public var headers: [(name: String, value: String)]
        /// `type/subtype`, lowercased; `text/plain` when absent.
        public var contentType: String
        public var parameters: [String: String]
        /// The decoded body; text parts as Swift strings with `\n` line breaks.
        public var body: String
        public var parts: [Part]
        /// The decoded bytes of a leaf part (attachments are not text).
        public var bytes: [UInt8] = []

        /// Every leaf part, depth first.
        public var leaves: [Part] { parts.isEmpty ? [self] : parts.flatMap(\.leaves) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public let raw: String
    public let root: Part

    public var headers: [(name: String, value: String)] { root.headers }

    public init(_ raw: String) throws {
        if let index = raw.utf8.indices.first(where: { i in
            raw.utf8[i] == 0x0A && (i == raw.utf8.startIndex || raw.utf8[raw.utf8.index(before: i)] != 0x0D)
        }) {
            throw Failure("bare LF at byte \(raw.utf8.distance(from: raw.utf8.startIndex, to: index))")
        }
        self.raw = raw
        self.root = try Self.part(raw)
    }

    /// The raw (unfolded, still encoded) value of the first header called `name`.
    public func rawHeader(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public func headerCount(_ name: String) -> Int {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.count
    }

    /// The decoded value of an unstructured header (Subject).
    public func header(_ name: String) throws -> String? {
        try rawHeader(name).map(Self.decodeUnstructured)
    }

    public var subject: String? { get throws { try header("Subject") } }

    public func addresses(_ name: String) throws -> [Mailbox] {
        guard let value = rawHeader(name) else { return [] }
        return try Self.addressList(value)
    }

    /// Every text leaf part's body of this content type, e.g. `text/plain`.
    public func body(_ contentType: String) -> String? {
        func find(_ part: Part) -> String? {
            if part.parts.isEmpty { return part.contentType == contentType ? part.body : nil }
            return part.parts.lazy.compactMap(find).first
        }
        return find(root)
    }

    public var text: String? { body("text/plain") }
    public var html: String? { body("text/html") }

    /// The physical header lines (folded), for line-length checks.
    public var headerLines: [String] {
        let end = raw.range(of: "\r\n\r\n")?.lowerBound ?? raw.endIndex
        return raw[..<end].components(separatedBy: "\r\n")
    }

    // MARK: Parsing

    public static func part(_ text: String) throws -> Part {
        let (headerBlock, body): (Substring, Substring)
        if let separator = text.range(of: "\r\n\r\n") {
            (headerBlock, body) = (text[..<separator.lowerBound], text[separator.upperBound...])
        } else if text.hasPrefix("\r\n") {
            (headerBlock, body) = ("", text.dropFirst(2))
        } else {
            (headerBlock, body) = (Substring(text), "")
        }
        let headers = try unfold(headerBlock)
        func value(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        let (contentType, parameters) = try parseContentType(value("Content-Type") ?? "text/plain; charset=us-ascii")
        if contentType.hasPrefix("multipart/") {
            guard let boundary = parameters["boundary"], !boundary.isEmpty else { throw Failure("multipart without boundary") }
            let parts = try splitMultipart(body, boundary: boundary).map(part)
            return Part(headers: headers, contentType: contentType, parameters: parameters, body: "", parts: parts)
        }
        let encoding = value("Content-Transfer-Encoding")?.trimmingCharacters(in: .whitespaces).lowercased() ?? "7bit"
        let bytes: [UInt8]
        switch encoding {
        case "base64":
            let compact = body.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: String(compact)) else { throw Failure("bad base64 body") }
            bytes = Array(data)
        case "quoted-printable":
            bytes = try decodeQuotedPrintable(body)
        case "7bit", "8bit", "binary":
            bytes = Array(body.utf8)
        default:
            throw Failure("unknown Content-Transfer-Encoding \(encoding)")
        }
        guard contentType.hasPrefix("text/") else {
            return Part(headers: headers, contentType: contentType, parameters: parameters, body: "", parts: [], bytes: bytes)
        }
        let charset = parameters["charset"]?.lowercased() ?? "us-ascii"
        let decoded = try decodeCharset(bytes, charset: charset).replacingOccurrences(of: "\r\n", with: "\n")
        return Part(headers: headers, contentType: contentType, parameters: parameters, body: decoded, parts: [], bytes: bytes)
    }

    /// RFC 5322 §2.2.3: a line starting with WSP continues the previous one; unfolding
    /// removes only the CRLF. The value starts after the colon and its leading WSP.
    public static func unfold(_ block: Substring) throws -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for line in block.components(separatedBy: "\r\n") where !line.isEmpty {
            if line.first == " " || line.first == "\t" {
                guard !fields.isEmpty else { throw Failure("continuation line before any header") }
                if line.allSatisfy({ $0 == " " || $0 == "\t" }) { throw Failure("whitespace-only header line") }
                fields[fields.count - 1].value += line
            } else {
                guard let colon = line.firstIndex(of: ":") else { throw Failure("header line without colon: \(line.prefix(40))") }
                let name = String(line[..<colon])
                guard !name.isEmpty, name.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
                    throw Failure("bad header name \(name)")
                }
                fields.append((name, String(line[line.index(after: colon)...])))
            }
        }
        return fields.map { ($0.name, String($0.value.drop(while: { $0 == " " || $0 == "\t" }))) }
    }

    public static func parseContentType(_ value: String) throws -> (String, [String: String]) {
        var scanner = Substring(value)
        let type = scanner.prefix(while: { $0 != ";" }).trimmingCharacters(in: .whitespaces).lowercased()
        scanner = scanner.drop(while: { $0 != ";" })
        var parameters: [String: String] = [:]
        while scanner.first == ";" {
            scanner = scanner.dropFirst().drop(while: \.isWhitespace)
            let name = scanner.prefix(while: { $0 != "=" }).trimmingCharacters(in: .whitespaces).lowercased()
            scanner = scanner.drop(while: { $0 != "=" }).dropFirst().drop(while: \.isWhitespace)
            var parameter = ""
            if scanner.first == "\"" {
                scanner = scanner.dropFirst()
                while let c = scanner.first, c != "\"" {
                    if c == "\\" { scanner = scanner.dropFirst() }
                    if let next = scanner.first { parameter.append(next); scanner = scanner.dropFirst() }
                }
                guard scanner.first == "\"" else { throw Failure("unterminated quoted parameter") }
                scanner = scanner.dropFirst().drop(while: \.isWhitespace)
            } else {
                parameter = scanner.prefix(while: { $0 != ";" }).trimmingCharacters(in: .whitespaces)
                scanner = scanner.drop(while: { $0 != ";" })
            }
            if !name.isEmpty { parameters[name] = parameter }
        }
        return (type, parameters)
    }

    /// RFC 2046 §5.1.1: the CRLF before a delimiter line belongs to the delimiter.
    public static func splitMultipart(_ body: Substring, boundary: String) throws -> [String] {
        let lines = body.components(separatedBy: "\r\n")
        var parts: [[String]] = []
        var current: [String]?
        var closed = false
        for line in lines {
            let trimmed = line.replacingOccurrences(of: "[ \t]+$", with: "", options: .regularExpression)
            if trimmed == "--\(boundary)--" {
                if let current { parts.append(current) }
                closed = true
                break
            } else if trimmed == "--\(boundary)" {
                if let current { parts.append(current) }
                current = []
            } else {
                current?.append(line)
            }
        }
        guard closed else { throw Failure("multipart without closing delimiter") }
        guard !parts.isEmpty else { throw Failure("multipart without parts") }
        return parts.map { $0.joined(separator: "\r\n") }
    }

    public static func decodeQuotedPrintable(_ body: Substring) throws -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(body.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "=") {
                if i + 2 < bytes.count, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A {  // soft line break
                    i += 3
                    continue
                }
                guard i + 2 < bytes.count, let byte = UInt8(String(decoding: bytes[i + 1...i + 2], as: UTF8.self), radix: 16)
                else { throw Failure("bad quoted-printable escape") }
                out.append(byte)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    public static func decodeCharset(_ bytes: [UInt8], charset: String) throws -> String {
        switch charset {
        case "utf-8", "utf8", "us-ascii":
            guard let text = String(validating: bytes, as: UTF8.self) else { throw Failure("invalid \(charset)") }
            if charset == "us-ascii", !bytes.allSatisfy({ $0 < 0x80 }) { throw Failure("non-ASCII in us-ascii") }
            return text
        case "iso-8859-1", "latin1":
            return String(bytes.map { Character(Unicode.Scalar($0)) })
        default:
            throw Failure("unsupported charset \(charset)")
        }
    }

    // MARK: RFC 2047

    /// Decodes one `=?charset?B|Q?text?=`; nil if `word` is not one.
    public static func decodeEncodedWord(_ word: Substring) throws -> String? {
        guard word.hasPrefix("=?"), word.hasSuffix("?="), word.count >= 8 else { return nil }
        let inner = word.dropFirst(2).dropLast(2)
        let pieces = inner.split(separator: "?", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return nil }
        guard word.count <= 75 else { throw Failure("encoded-word longer than 75 characters: \(word.count)") }
        let charset = pieces[0].split(separator: "*").first.map { $0.lowercased() } ?? ""
        let bytes: [UInt8]
        switch pieces[1].uppercased() {
        case "B":
            guard let data = Data(base64Encoded: String(pieces[2])) else { throw Failure("bad base64 in \(word)") }
            bytes = Array(data)
        case "Q":
            var out: [UInt8] = []
            var scalars = Array(pieces[2].utf8)[...]
            while let byte = scalars.first {
                scalars = scalars.dropFirst()
                if byte == UInt8(ascii: "_") {
                    out.append(0x20)
                } else if byte == UInt8(ascii: "="), scalars.count >= 2,
                    let value = UInt8(String(decoding: scalars.prefix(2), as: UTF8.self), radix: 16)
                {
                    out.append(value)
                    scalars = scalars.dropFirst(2)
                } else {
                    out.append(byte)
                }
            }
            bytes = out
        default:
            return nil
        }
        return try decodeCharset(bytes, charset: charset)
    }

    /// Unstructured text: encoded-words decoded, the whitespace between two adjacent
    /// encoded-words dropped (RFC 2047 §6.2), everything else kept.
    public static func decodeUnstructured(_ value: String) throws -> String {
        var result = ""
        var pendingSpace = ""
        var previousWasEncoded = false
        var index = value.startIndex
        while index < value.endIndex {
            if value[index] == " " || value[index] == "\t" {
                let end = value[index...].firstIndex(where: { $0 != " " && $0 != "\t" }) ?? value.endIndex
                pendingSpace = String(value[index..<end])
                index = end
                continue
            }
            let end = value[index...].firstIndex(where: { $0 == " " || $0 == "\t" }) ?? value.endIndex
            let token = value[index..<end]
            if let decoded = try decodeEncodedWord(token) {
                if !previousWasEncoded { result += pendingSpace }
                result += decoded
                previousWasEncoded = true
            } else {
                result += pendingSpace + token
                previousWasEncoded = false
            }
            pendingSpace = ""
            index = end
        }
        return result + pendingSpace
    }

    // MARK: Addresses

    /// RFC 5322 §3.4 address lists: mailboxes split at commas outside quotes, angle
    /// brackets and comments; display names from quoted-strings, atoms and encoded-words.
    public static func addressList(_ value: String) throws -> [Mailbox] {
        var items: [String] = []
        var current = ""
        var inQuotes = false, inAngle = false, commentDepth = 0, escaped = false
        for c in value {
            if escaped { current.append(c); escaped = false; continue }
            switch c {
            case "\\" where inQuotes || commentDepth > 0: escaped = true; current.append(c)
            case "\"" where commentDepth == 0: inQuotes.toggle(); current.append(c)
            case "(" where !inQuotes: commentDepth += 1
            case ")" where !inQuotes && commentDepth > 0: commentDepth -= 1
            case _ where commentDepth > 0: break
            case "<" where !inQuotes: inAngle = true; current.append(c)
            case ">" where !inQuotes: inAngle = false; current.append(c)
            case "," where !inQuotes && !inAngle:
                items.append(current)
                current = ""
            default: current.append(c)
            }
        }
        guard !inQuotes, !inAngle, commentDepth == 0 else { throw Failure("unbalanced address list: \(value)") }
        items.append(current)
        return try items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map(mailbox)
    }

    public static func mailbox(_ text: String) throws -> Mailbox {
        guard let open = text.lastIndex(of: "<"), text.hasSuffix(">") else {
            guard text.contains("@"), !text.contains(" ") else { throw Failure("bad addr-spec \(text)") }
            return Mailbox(name: nil, address: text)
        }
        let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        let phrase = text[..<open].trimmingCharacters(in: .whitespaces)
        return Mailbox(name: phrase.isEmpty ? nil : try decodePhrase(phrase), address: address)
    }

    /// A phrase: words are quoted-strings (unescaped, never decoded: RFC 2047 §5) or
    /// atoms; adjacent encoded-words join without the space between them.
    public static func decodePhrase(_ phrase: String) throws -> String {
        var words: [(text: String, encoded: Bool)] = []
        var index = phrase.startIndex
        while index < phrase.endIndex {
            let c = phrase[index]
            if c == " " || c == "\t" {
                index = phrase.index(after: index)
            } else if c == "\"" {
                var text = ""
                index = phrase.index(after: index)
                while index < phrase.endIndex, phrase[index] != "\"" {
                    if phrase[index] == "\\" { index = phrase.index(after: index) }
                    guard index < phrase.endIndex else { break }
                    text.append(phrase[index])
                    index = phrase.index(after: index)
                }
                guard index < phrase.endIndex else { throw Failure("unterminated quoted-string") }
                index = phrase.index(after: index)
                words.append((text, false))
            } else {
                let end = phrase[index...].firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "\"" }) ?? phrase.endIndex
                let token = phrase[index..<end]
                if let decoded = try decodeEncodedWord(token) {
                    words.append((decoded, true))
                } else {
                    let specials = Set("()<>[]:;@\\,\"")
                    if token.contains(where: specials.contains) { throw Failure("special character in unquoted phrase: \(phrase)") }
                    words.append((String(token), false))
                }
                index = end
            }
        }
        var result = ""
        for (i, word) in words.enumerated() {
            if i > 0 && !(word.encoded && words[i - 1].encoded) { result += " " }
            result += word.text
        }
        return result
    }
}
