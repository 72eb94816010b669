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

    /// The header lines in order. `date` and `messageID` are nil in previews.
    public func headers(date: Date?, messageID: String?) -> [Header] {
        var headers: [Header] = []
        if let date { headers.append(Header(name: "Date", value: Self.rfc5322Date(date))) }
        if let messageID { headers.append(Header(name: "Message-ID", value: "<\(messageID)>")) }
        headers.append(Header(name: "To", value: Self.addressList(email.to)))
        if !email.cc.isEmpty { headers.append(Header(name: "Cc", value: Self.addressList(email.cc))) }
        // Gmail reads Bcc from the raw message and removes it before delivery.
        if !email.bcc.isEmpty { headers.append(Header(name: "Bcc", value: Self.addressList(email.bcc))) }
        if let replyTo = email.replyTo { headers.append(Header(name: "Reply-To", value: Self.mailbox(replyTo))) }
        headers.append(Header(name: "Subject", value: Self.encodedText(email.subject)))
        headers.append(Header(name: "MIME-Version", value: "1.0"))
        return headers
    }

    /// The whole message with CRLF line endings, bodies base64-encoded (any UTF-8 is safe).
    public func render(date: Date, messageID: String, boundary: String) -> String {
        var lines = headers(date: date, messageID: messageID).map { "\($0.name): \($0.value)" }
        if let html = email.html {
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
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

    static func addressList(_ addresses: [EmailAddress]) -> String {
        addresses.map(mailbox).joined(separator: ",\r\n ")
    }

    static func mailbox(_ address: EmailAddress) -> String {
        guard let name = address.displayName else { return address.address }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")
        if name.allSatisfy({ atext.contains($0) }) { return "\(name) <\(address.address)>" }
        if name.allSatisfy({ $0.isASCII && !$0.isNewline }) {
            return "\"\(name.replacingOccurrences(of: "\\", with: "\\\\"))\" <\(address.address)>"
        }
        return "\(encodedWords(name)) <\(address.address)>"
    }

    /// Printable ASCII stays as it is (folded if very long); anything else becomes
    /// RFC 2047 encoded-words, each at most 75 characters, never splitting a character.
    static func encodedText(_ text: String) -> String {
        if text.allSatisfy({ $0.isASCII && !$0.isNewline }) && text.utf8.count <= 900 { return text }
        return encodedWords(text)
    }

    static func encodedWords(_ text: String) -> String {
        // "=?UTF-8?B?" + "?=" take 12 of the 75; 45 bytes of UTF-8 make 60 base64 characters.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    static func base64Lines(_ text: String) -> String {
        let encoded = Data(text.utf8).base64EncodedString()
        var lines: [Substring] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(encoded[index..<end])
            index = end
        }
        return lines.joined(separator: "\r\n")
    }

    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d +0000", days[c.weekday! - 1], c.day!, months[c.month! - 1], c.year!,
            c.hour!, c.minute!, c.second!)
    }
}
