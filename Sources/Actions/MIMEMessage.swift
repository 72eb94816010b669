import Foundation

/// The RFC 5322 / MIME message for a `gmail.send` job. The preview shows these
/// header lines; the executor sends `render`, so the reviewer sees what is sent.
public struct MIMEMessage: Sendable {
    public struct Header: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    let email: GmailSend

    public init(email: GmailSend) {
        self.email = email
    }

    /// The header lines in order. `date` and `messageID` are nil in previews. Values
    /// are exactly what is sent: folded (`\r\n `) and RFC 2047-encoded where needed.
    public func headers(date: Date?, messageID: String?) -> [Header] {
        var headers: [Header] = []
        if let date { headers.append(Header(name: "Date", value: Self.rfc5322Date(date))) }
        if let messageID { headers.append(Header(name: "Message-ID", value: "<\(messageID)>")) }
        headers.append(Header(name: "To", value: HeaderEncoding.addressList(email.to, name: "To")))
        if !email.cc.isEmpty { headers.append(Header(name: "Cc", value: HeaderEncoding.addressList(email.cc, name: "Cc"))) }
        // Gmail reads Bcc from the raw message to address the copies, and removes the
        // header before delivery, so no recipient sees it.
        if !email.bcc.isEmpty { headers.append(Header(name: "Bcc", value: HeaderEncoding.addressList(email.bcc, name: "Bcc"))) }
        if let replyTo = email.replyTo {
            headers.append(Header(name: "Reply-To", value: HeaderEncoding.addressList([replyTo], name: "Reply-To")))
        }
        headers.append(Header(name: "Subject", value: HeaderEncoding.unstructured(email.subject, name: "Subject")))
        headers.append(Header(name: "MIME-Version", value: "1.0"))
        return headers
    }

    /// The whole message with CRLF line endings, bodies base64-encoded (any UTF-8 is
    /// safe, and no body line can look like a boundary: `-` is not in base64's
    /// alphabet). `boundary` should be 1–70 characters of RFC 2046 `bchars`; other
    /// characters are dropped (an empty result becomes `gateapi-boundary`).
    /// Every file's bytes must be in `email.contents` (a missing one renders empty,
    /// which `GmailSend.withContents` rules out before anything is sent).
    public func render(date: Date, messageID: String, boundary: String) -> String {
        var out = ""
        for segment in segments(date: date, messageID: messageID, boundary: boundary) {
            switch segment {
            case .line(let line): out += line
            case .file(let file): out += Self.base64Lines(email.contents[file.sha256] ?? Data())
            }
            out += "\r\n"
        }
        return out
    }

    /// The encoded size in bytes of the message (with Date and Message-ID) before any
    /// file and after each one, in the order the message carries them (inline images,
    /// then attachments): the last is the whole message. Computed from the files'
    /// sizes, without their bytes.
    public func encodedSizeAfterEachFile() -> [Int] {
        // The longest Message-ID a job can have (its id at a 253-character domain), so
        // the size is never under what is sent.
        let messageID = "job_\(String(repeating: "0", count: 26))@\(String(repeating: "d", count: 253))"
        let sample = segments(
            date: Date(timeIntervalSince1970: 0), messageID: messageID, boundary: "gateapi-alt-\(String(repeating: "0", count: 32))")
        var structure = 0
        var files: [Int] = []
        for segment in sample {
            switch segment {
            case .line(let line): structure += line.utf8.count + 2
            case .file(let file):
                let encoded = (file.size + 2) / 3 * 4
                let lines = max(1, (encoded + 75) / 76)
                files.append(encoded + 2 * (lines - 1) + 2)
            }
        }
        var sizes = [structure]
        for size in files { sizes.append(sizes.last! + size) }
        return sizes
    }

    /// A line of the message, or a file's base64 lines (rendered, or only counted).
    enum Segment {
        case line(String)
        case file(EmailAttachment)
    }

    /// A MIME entity: a body with its own header lines, or a multipart of entities.
    indirect enum Entity {
        case leaf(headers: [String], body: Segment)
        case multipart(subtype: String, boundary: String, parts: [Entity])
    }

    func segments(date: Date?, messageID: String?, boundary: String) -> [Segment] {
        var out = headers(date: date, messageID: messageID).map { Segment.line("\($0.name): \($0.value)") }
        append(entity(boundary: Self.safeBoundary(boundary)), to: &out)
        return out
    }

    /// Text, or text and HTML as alternatives (plain text first: in multipart/alternative
    /// the last part is the preferred one); the HTML with its inline images as
    /// multipart/related; all of it first in multipart/mixed when there are attachments.
    /// Nested boundaries differ in their first characters, so none is a prefix of another.
    private func entity(boundary: String) -> Entity {
        let base = String(boundary.prefix(68))
        var body = Self.text("text/plain", email.text)
        if let html = email.html {
            var htmlEntity = Self.text("text/html", html)
            if !email.inline.isEmpty {
                htmlEntity = .multipart(
                    subtype: "related", boundary: "r." + base, parts: [htmlEntity] + email.inline.map(Self.file))
            }
            body = .multipart(subtype: "alternative", boundary: email.files.isEmpty ? boundary : base, parts: [body, htmlEntity])
        }
        guard !email.attachments.isEmpty else { return body }
        return .multipart(subtype: "mixed", boundary: "m." + base, parts: [body] + email.attachments.map(Self.file))
    }

    private static func text(_ type: String, _ text: String) -> Entity {
        .leaf(
            headers: ["Content-Type: \(type); charset=UTF-8", "Content-Transfer-Encoding: base64"],
            body: .line(base64Lines(text)))
    }

    private static func file(_ file: EmailAttachment) -> Entity {
        // Text files were checked to be UTF-8 (`AttachmentTypes`); saying so keeps
        // clients from guessing another charset.
        let charset = file.contentType.hasPrefix("text/") ? "; charset=UTF-8" : ""
        var headers = [
            "Content-Type: \(file.contentType)\(charset);\r\n " + MIMEParameter.encode("name", file.filename),
            "Content-Disposition: \(file.isInline ? "inline" : "attachment");\r\n " + MIMEParameter.encode("filename", file.filename),
            "Content-Transfer-Encoding: base64",
        ]
        if let contentID = file.contentID { headers.append("Content-ID: <\(contentID)>") }
        return .leaf(headers: headers, body: .file(file))
    }

    private func append(_ entity: Entity, to out: inout [Segment]) {
        switch entity {
        case .leaf(let headers, let body):
            out += headers.map(Segment.line)
            out.append(.line(""))
            out.append(body)
        case .multipart(let subtype, let boundary, let parts):
            out.append(.line("Content-Type: multipart/\(subtype); boundary=\"\(boundary)\""))
            out.append(.line(""))
            for part in parts {
                out.append(.line("--\(boundary)"))
                append(part, to: &out)
            }
            out.append(.line("--\(boundary)--"))
        }
    }

    /// RFC 2046 §5.1.1: 1–70 of `bchars`, not ending in a space.
    static func safeBoundary(_ boundary: String) -> String {
        let bchars = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=? ")
        var kept = String(boundary.filter(bchars.contains).prefix(70))
        while kept.hasSuffix(" ") { kept.removeLast() }
        return kept.isEmpty ? "gateapi-boundary" : kept
    }

    /// Text bodies in canonical form (RFC 2045 §6.8, RFC 2046 §4.1.1): line breaks
    /// become CRLF before base64, whatever the agent sent (LF, CR or CRLF).
    static func base64Lines(_ text: String) -> String {
        base64Lines(Data(canonicalLineBreaks(text).utf8))
    }

    /// Base64 in lines of 76 characters (RFC 2045 §6.8), joined by CRLF.
    static func base64Lines(_ data: Data) -> String {
        let encoded = Array(data.base64EncodedString().utf8)
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count + encoded.count / 38)
        var index = 0
        while index < encoded.count {
            if index > 0 { out += [13, 10] }
            let end = min(index + 76, encoded.count)
            out += encoded[index..<end]
            index = end
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func canonicalLineBreaks(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\r":
                result.append(contentsOf: "\r\n".unicodeScalars)
                previousWasCR = true
                continue
            case "\n":
                if !previousWasCR { result.append(contentsOf: "\r\n".unicodeScalars) }
            default:
                result.append(scalar)
            }
            previousWasCR = false
        }
        return String(result)
    }

    /// `Fri, 05 Jun 2026 09:03:07 +0000` (RFC 5322 §3.3), always in UTC.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[c.weekday! - 1]), \(two(c.day!)) \(months[c.month! - 1]) \(c.year!) "
            + "\(two(c.hour!)):\(two(c.minute!)):\(two(c.second!)) +0000"
    }
}
