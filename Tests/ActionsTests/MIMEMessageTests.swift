import Foundation
import MIMETestSupport
import Testing

@testable import Actions
@testable import GateCore

/// `gmail.send` params through the same validation as a submission.
func gmailSend(_ params: [String: JSONValue]) throws -> GmailSend {
    try GmailSend.parse(.object(params), form: .submitted).get()
}

/// Every message GateAPI renders must read back, with a strict reader, to what was
/// approved, and respect the line-length rules of RFC 5322 and RFC 2047.
@Suite struct MIMEMessageTests {
    let date = Date(timeIntervalSince1970: 1_780_000_000)

    func render(_ email: GmailSend, boundary: String = "gateapi-alt-test") throws -> MIMEReader {
        let raw = MIMEMessage(email: email).render(date: date, messageID: "job_1@gateapi.invalid", boundary: boundary)
        let message = try MIMEReader(raw)
        for line in message.headerLines {
            #expect(line.utf8.count <= 998, "line over 998: \(line)")
            if line.contains("=?") { #expect(line.utf8.count <= 76, "encoded-word line over 76: \(line)") }
        }
        return message
    }

    @Test func nonASCIIHeadersAndBothBodiesReadBack() throws {
        let email = try gmailSend([
            "to": ["Zoë Ågren <zoe@example.com>", "Doe, John <john@example.com>", "plain@example.com", "O'Brien Jr <ob@example.com>"],
            "cc": ["Dr. Who <who@example.org>", "🚀 Launch Team <launch@example.org>"],
            "bcc": ["Hidden Person <hidden@example.net>"],
            "reply_to": "Büro <office@example.com>",
            "subject": "Résumé – 請求書 🚀",
            "text": "Hallo Zoë,\nanbei das Résumé.\n\n– 請求書",
            "html": "<p>Hallo <b>Zoë</b></p>\n<p>請求書 🚀</p>",
        ])
        let message = try render(email)
        #expect(try message.subject == "Résumé – 請求書 🚀")
        #expect(try message.addresses("To") == [
            .init(name: "Zoë Ågren", address: "zoe@example.com"), .init(name: "Doe, John", address: "john@example.com"),
            .init(name: nil, address: "plain@example.com"), .init(name: "O'Brien Jr", address: "ob@example.com"),
        ])
        #expect(try message.addresses("Cc") == [
            .init(name: "Dr. Who", address: "who@example.org"), .init(name: "🚀 Launch Team", address: "launch@example.org"),
        ])
        // Bcc stays in the raw message: Gmail addresses the copy from it and strips it.
        #expect(try message.addresses("Bcc") == [.init(name: "Hidden Person", address: "hidden@example.net")])
        #expect(try message.addresses("Reply-To") == [.init(name: "Büro", address: "office@example.com")])
        #expect(message.text == "Hallo Zoë,\nanbei das Résumé.\n\n– 請求書")
        #expect(message.html == "<p>Hallo <b>Zoë</b></p>\n<p>請求書 🚀</p>")
        #expect(message.rawHeader("Date") == "Thu, 28 May 2026 20:26:40 +0000")
        #expect(message.rawHeader("Message-ID") == "<job_1@gateapi.invalid>")
        #expect(message.rawHeader("MIME-Version") == "1.0")
        #expect(message.root.contentType == "multipart/alternative")
        #expect(message.root.parts.map(\.contentType) == ["text/plain", "text/html"])
        for name in ["Date", "Message-ID", "To", "Subject", "MIME-Version", "Content-Type"] {
            #expect(message.headerCount(name) == 1, "\(name)")
        }
    }

    @Test func longNonASCIISubjectIsSplitIntoValidEncodedWords() throws {
        let subject = String(String(repeating: "Résumé – 請求書 🚀 👨‍👩‍👧‍👦 ", count: 20).prefix(300))
        #expect(subject.count == 300)
        let message = try render(try gmailSend(["to": ["a@example.com"], "subject": .string(subject), "text": "t"]))
        #expect(try message.subject == subject)
        #expect(message.text == "t")
        #expect(message.root.contentType == "text/plain")
    }

    @Test func longASCIISubjectsAreFoldedAtSpacesAndReadBackExactly() throws {
        let words = (1...80).map { "word\($0)" }.joined(separator: " ")
        let spaced = String(("Leading, double  spaces " + words).prefix(500)).trimmingCharacters(in: .whitespaces)
        let message = try render(try gmailSend(["to": ["a@example.com"], "subject": .string(spaced), "text": "t"]))
        #expect(try message.subject == spaced)
        #expect(message.headerLines.allSatisfy { $0.utf8.count <= 78 })
        #expect(message.headerLines.filter { $0.hasPrefix(" ") }.count > 3)

        let unbroken = String(repeating: "x", count: 500)
        let long = try render(try gmailSend(["to": ["a@example.com"], "subject": .string(unbroken), "text": "t"]))
        #expect(try long.subject == unbroken)
        #expect(long.rawHeader("Subject") == unbroken)
    }

    @Test func textThatLooksLikeAnEncodedWordIsNotDecodedByTheRecipient() throws {
        // Raw, "=?UTF-8?B?QWRtaW4=?=" would read as "Admin": not what the reviewer saw.
        let message = try render(try gmailSend([
            "to": ["=?UTF-8?B?QWRtaW4=?= <a@example.com>"], "subject": "=?UTF-8?B?QWRtaW4=?= says hi", "text": "t",
        ]))
        #expect(try message.subject == "=?UTF-8?B?QWRtaW4=?= says hi")
        #expect(try message.addresses("To") == [.init(name: "=?UTF-8?B?QWRtaW4=?=", address: "a@example.com")])
    }

    @Test func controlCharactersAndHugeGraphemeClustersAreEncodedSafely() throws {
        let zalgo = "e" + String(repeating: "\u{301}", count: 40) + " done"
        let subject = "Bell\u{7} tab\there " + zalgo
        let message = try render(try gmailSend(["to": ["a@example.com"], "subject": .string(subject), "text": "t"]))
        #expect(try message.subject == subject)
        #expect(message.rawHeader("Subject")?.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) } == true)
    }

    @Test func textBodiesAreSentWithCRLFLineBreaks() throws {
        let email = try gmailSend(["to": ["a@example.com"], "subject": "s", "text": "a\nb\r\nc\rd\n"])
        let raw = MIMEMessage(email: email).render(date: date, messageID: "m@x.invalid", boundary: "b")
        let body = raw.components(separatedBy: "\r\n\r\n")[1].replacingOccurrences(of: "\r\n", with: "")
        #expect(String(data: Data(base64Encoded: body)!, encoding: .utf8) == "a\r\nb\r\nc\r\nd\r\n")
        #expect(try MIMEReader(raw).text == "a\nb\nc\nd\n")
    }

    @Test func previewHeadersAreExactlyTheSentHeaders() throws {
        let email = try gmailSend([
            "to": ["Zoë <zoe@example.com>", "b@example.com"], "cc": ["Doe, John <j@example.com>"],
            "subject": .string("Résumé " + String(repeating: "long ", count: 40)), "text": "t", "html": "<p>t</p>",
        ])
        let message = MIMEMessage(email: email)
        let raw = message.render(date: date, messageID: "m@x.invalid", boundary: "b")
        for header in message.headers(date: nil, messageID: nil) {
            #expect(raw.contains("\r\n\(header.name): \(header.value)\r\n"))
        }
    }

    @Test func invalidBoundaryCharactersAreDropped() throws {
        let email = try gmailSend(["to": ["a@example.com"], "subject": "s", "text": "t", "html": "<p>h</p>"])
        let message = try render(email, boundary: "bad\"boundary\r\n;" + String(repeating: "x", count: 100))
        let boundary = try #require(message.root.parameters["boundary"])
        #expect(boundary.hasPrefix("badboundary") && boundary.count == 70)
        #expect(message.html == "<p>h</p>")
    }
}
