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
    public func render(date: Date, messageID: String, boundary: String) -> String {
        var lines = headers(date: date, messageID: messageID).map { "\($0.name): \($0.value)" }
        if let html = email.html {
            let boundary = Self.safeBoundary(boundary)
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            // Plain text first: in multipart/alternative the last part is the preferred one.
            for (type, body) in [("text/plain", email.text), ("text/html", html)] {
                lines.append("--\(boundary)")
                lines.append("Content-Type: \(type); charset=UTF-8")
                lines.append("Content-Transfer-Encoding: base64")
                lines.append("")
                lines.append(Self.base64Lines(body))
            }
            lines.append("--\(boundary)--")
        } else {
            lines.append("Content-Type: text/plain; charset=UTF-8")
            lines.append("Content-Transfer-Encoding: base64")
            lines.append("")
            lines.append(Self.base64Lines(email.text))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
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
        let encoded = Data(canonicalLineBreaks(text).utf8).base64EncodedString()
        var lines: [Substring] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(encoded[index..<end])
            index = end
        }
        return lines.joined(separator: "\r\n")
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
