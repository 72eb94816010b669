import Foundation
import MIMETestSupport
import Testing

@testable import Actions
@testable import GateCore

/// Sample files whose bytes pass the content checks of their types.
enum SampleFiles {
    static let pdf = Data("%PDF-1.7\n".utf8) + Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    static let csv = Data("date,amount,Empfänger\n2026-12-01,12.50,Zoë\n".utf8)
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data((0..<300).map { UInt8($0 % 251) })
    static let exe = Data([0x4D, 0x5A, 0x90, 0x00, 0x03]) + Data(repeating: 0, count: 200)

    static func file(_ name: String, _ type: String, _ bytes: Data) -> JSONValue {
        ["filename": .string(name), "content_type": .string(type), "content_base64": .string(bytes.base64EncodedString())]
    }

    static func params(attachments: [JSONValue] = [], inline: [JSONValue] = [], html: String? = nil) -> [String: JSONValue] {
        var params: [String: JSONValue] = ["to": ["ap@example.com"], "subject": "Invoice", "text": "Attached."]
        if let html { params["html"] = .string(html) }
        if !attachments.isEmpty { params["attachments"] = .array(attachments) }
        if !inline.isEmpty { params["inline"] = .array(inline) }
        return params
    }

    static let invoice = params(
        attachments: [file("invoice.pdf", "application/pdf", pdf), file("lines.csv", "text/csv", csv)],
        inline: [["content_id": "logo", "filename": "logo.png", "content_type": "image/png", "content_base64": .string(png.base64EncodedString())]],
        html: #"<p><img src="cid:logo" alt="Logo"> Invoice attached.</p>"#)
}

@Suite struct AttachmentMessageTests {
    let date = Date(timeIntervalSince1970: 1_780_000_000)

    func errors(_ params: [String: JSONValue]) -> [FieldError] {
        if case .failure(let failure) = GmailSend.parse(.object(params), form: .submitted) { return failure.errors }
        return []
    }

    @Test func mixedAlternativeRelatedReadsBackWithTheSameBytes() throws {
        let email = try gmailSend(SampleFiles.invoice)
        let raw = MIMEMessage(email: email).render(date: date, messageID: "job_1@gateapi.invalid", boundary: "gateapi-alt-x")
        let message = try MIMEReader(raw)
        #expect(message.root.contentType == "multipart/mixed")
        let alternative = message.root.parts[0]
        #expect(alternative.contentType == "multipart/alternative")
        #expect(alternative.parts.map(\.contentType) == ["text/plain", "multipart/related"])
        #expect(alternative.parts[1].parts.map(\.contentType) == ["text/html", "image/png"])
        let leaves = message.root.leaves
        #expect(leaves.map(\.contentType) == ["text/plain", "text/html", "image/png", "application/pdf", "text/csv"])
        #expect(leaves[2].bytes == Array(SampleFiles.png))
        #expect(leaves[3].bytes == Array(SampleFiles.pdf))
        #expect(leaves[4].bytes == Array(SampleFiles.csv))
        #expect(leaves[2].headers.contains { $0.name == "Content-ID" && $0.value == "<logo>" })
        #expect(leaves[3].headers.contains { $0.name == "Content-Disposition" && $0.value == "attachment; filename=\"invoice.pdf\"" })
        // Every line CRLF-terminated and within 998 octets; base64 lines within 76.
        for line in raw.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 998) }
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func theEncodedSizeIsExactForTheLongestMessageID() throws {
        let email = try gmailSend(SampleFiles.invoice)
        let longest = "job_\(String(repeating: "0", count: 26))@\(String(repeating: "d", count: 253))"
        let raw = MIMEMessage(email: email).render(date: date, messageID: longest, boundary: "gateapi-alt-\(String(repeating: "0", count: 32))")
        let sizes = MIMEMessage(email: email).encodedSizeAfterEachFile()
        #expect(sizes.count == 4)
        #expect(sizes.last == raw.utf8.count)
        // A real job's Message-ID is shorter: the size is an upper bound.
        let real = MIMEMessage(email: email).render(date: date, messageID: "job_1@gateapi.invalid", boundary: "gateapi-alt-x")
        #expect(real.utf8.count < sizes.last!)
    }

    @Test func bodiesAloneCanPassTheLimitAndAreRefused() {
        // 512 Ki characters, but each a 25-byte grapheme (a family emoji): 12.8 MB a body.
        let heavy = String(repeating: "👨‍👩‍👧‍👦", count: 512 * 1024)
        let found = errors(["to": ["a@example.com"], "subject": "s", "text": .string(heavy), "html": .string(heavy)])
        #expect(found.map(\.field) == ["params"])
        #expect(found.first?.message.contains("before any file; Gmail's limit is 25000000") == true)
    }

    @Test func messagesWithoutFilesRenderAsBefore() throws {
        let email = try gmailSend(["to": ["a@example.com"], "subject": "s", "text": "t", "html": "<p>h</p>"])
        let raw = MIMEMessage(email: email).render(date: date, messageID: "m@x", boundary: "b1")
        #expect(raw.contains("Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n"))
        #expect(!raw.contains("multipart/mixed"))
    }

    @Test func nonASCIIAndLongNamesUseRFC2231() {
        #expect(MIMEParameter.encode("filename", "report.pdf") == "filename=\"report.pdf\"")
        #expect(MIMEParameter.encode("filename", "Résumé.pdf") == "filename*=UTF-8''R%C3%A9sum%C3%A9.pdf")
        #expect(MIMEParameter.encode("filename", "a \"quoted\" name.pdf") == "filename*=UTF-8''a%20%22quoted%22%20name.pdf")
        let long = MIMEParameter.encode("filename", String(repeating: "請求書", count: 10) + ".pdf")
        #expect(long.hasPrefix("filename*0*=UTF-8''%E8%AB%8B"))
        #expect(long.contains(";\r\n filename*1*="))
        for line in long.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78) }
        // No section splits a %XX triple.
        for section in long.components(separatedBy: ";\r\n ") {
            let value = section.split(separator: "=", maxSplits: 1)[1]
            #expect(!value.hasSuffix("%") && !value.dropLast().hasSuffix("%"))
        }
    }

    @Test func filenamesLoseTheirPathsAndControlCharacters() throws {
        #expect(AttachmentFilename.sanitized("../../etc/passwd.pdf") == "passwd.pdf")
        #expect(AttachmentFilename.sanitized(#"C:\Users\ann\report.pdf"#) == "report.pdf")
        #expect(AttachmentFilename.sanitized("re\u{0}port\u{202E}fdp.exe.pdf") == "reportfdp.exe.pdf")
        #expect(AttachmentFilename.sanitized(" .hidden.pdf. ") == "hidden.pdf")
        #expect(AttachmentFilename.sanitized("../..") == nil)
        #expect(AttachmentFilename.sanitized(String(repeating: "a", count: 252) + ".pdf") == nil)
        let email = try gmailSend(SampleFiles.params(attachments: [SampleFiles.file("/tmp/x/Résumé.pdf", "application/pdf", SampleFiles.pdf)]))
        #expect(email.attachments[0].filename == "Résumé.pdf")
    }

    @Test func disguisedAndDisallowedFilesAreRefusedByName() {
        let cases: [(JSONValue, String)] = [
            (SampleFiles.file("invoice.pdf", "application/pdf", SampleFiles.exe), "invoice.pdf (application/pdf): the content is a program"),
            (SampleFiles.file("invoice.pdf", "application/pdf", SampleFiles.png), "invoice.pdf (application/pdf): the content is not application/pdf"),
            (SampleFiles.file("setup.exe", "application/pdf", SampleFiles.pdf), "files named .exe are not allowed"),
            (SampleFiles.file("lines.pdf", "text/csv", SampleFiles.csv), "the name's extension .pdf is for application/pdf"),
            (SampleFiles.file("page.html", "text/html", Data("<p>".utf8)), "is not allowed for attachments"),
            (SampleFiles.file("data.bin", "application/octet-stream", SampleFiles.pdf), "is not allowed for attachments"),
            (SampleFiles.file("notes.txt", "text/plain", Data([0x61, 0x00, 0x62])), "the content is not text/plain"),
        ]
        for (file, message) in cases {
            let found = errors(SampleFiles.params(attachments: [file]))
            #expect(found.count == 1 && found[0].field.hasPrefix("params.attachments[0]"), "\(found)")
            #expect(found.first?.message.contains(message) == true, "\(found) should say \(message)")
        }
    }

    @Test func limitsOnCountSizeInlineAndEncoding() {
        let eleven = (0..<11).map { SampleFiles.file("f\($0).csv", "text/csv", SampleFiles.csv) }
        #expect(errors(SampleFiles.params(attachments: eleven)).first?.message.contains("at most 10") == true)
        let six = (0..<6).map { SampleFiles.file("f\($0).csv", "text/csv", SampleFiles.csv) }
        let fiveInline: [JSONValue] = (0..<5).map {
            ["content_id": .string("i\($0)"), "filename": "i.png", "content_type": "image/png",
             "content_base64": .string(SampleFiles.png.base64EncodedString())]
        }
        let html = (0..<5).map { "<img src=\"cid:i\($0)\">" }.joined()
        #expect(errors(SampleFiles.params(attachments: six, inline: fiveInline, html: html)).map(\.field) == ["params.attachments"])
        // The file that breaks the 25 MB limit is named.
        let big = Data("%PDF-1.7\n".utf8) + Data(count: 10_000_000)
        let tooLarge = errors(SampleFiles.params(attachments: [
            SampleFiles.file("small.csv", "text/csv", SampleFiles.csv), SampleFiles.file("a.pdf", "application/pdf", big),
            SampleFiles.file("b.pdf", "application/pdf", big),
        ]))
        #expect(tooLarge.map(\.field) == ["params.attachments[2]"])
        #expect(tooLarge.first?.message.contains("with b.pdf (10000009 bytes) the message is") == true)
        // Inline images must be images the HTML shows.
        let logo: JSONValue = ["content_id": "logo", "filename": "logo.png", "content_type": "image/png", "content_base64": .string(SampleFiles.png.base64EncodedString())]
        #expect(errors(SampleFiles.params(inline: [logo], html: "<p>no image</p>")).first?.message.contains("cid:logo") == true)
        #expect(errors(SampleFiles.params(inline: [logo])).first?.field == "params.inline[0]")
        let pdfInline: JSONValue = ["content_id": "doc", "filename": "d.pdf", "content_type": "application/pdf", "content_base64": .string(SampleFiles.pdf.base64EncodedString())]
        #expect(errors(SampleFiles.params(inline: [pdfInline], html: "cid:doc")).first?.message.contains("must be images") == true)
        // Strict base64; and the stored form (a description without bytes) cannot be submitted.
        let bad: JSONValue = ["filename": "a.csv", "content_type": "text/csv", "content_base64": "YWJj\nZGVm"]
        #expect(errors(SampleFiles.params(attachments: [bad])).first?.message.contains("standard base64") == true)
        let stored: JSONValue = ["filename": "a.csv", "content_type": "text/csv", "size": 3, "sha256": .string(String(repeating: "a", count: 64))]
        #expect(Set(errors(SampleFiles.params(attachments: [stored])).map(\.field)) == [
            "params.attachments[0].content_base64", "params.attachments[0].sha256", "params.attachments[0].size",
        ])
    }

    @Test func thePayloadHashCoversEveryFilesBytesNameAndType() throws {
        let submitted = try ActionRegistry.validate(action: "gmail.send", params: .object(SampleFiles.invoice), form: .submitted).get()
        // Stored params carry the description; they validate to the same hash and files.
        let stored = try ActionRegistry.validate(action: "gmail.send", params: submitted.params, form: .stored).get()
        #expect(stored.payloadHash == submitted.payloadHash)
        #expect(stored.files == submitted.files)
        #expect(stored.contents.bytes.isEmpty && submitted.contents.bytes.count == 3)
        var changedByte = SampleFiles.pdf
        changedByte[100] ^= 1
        for variant in [
            SampleFiles.params(attachments: [SampleFiles.file("invoice.pdf", "application/pdf", changedByte)]),
            SampleFiles.params(attachments: [SampleFiles.file("invoice2.pdf", "application/pdf", SampleFiles.pdf)]),
        ] {
            let base = try ActionRegistry.validate(
                action: "gmail.send", params: .object(SampleFiles.params(attachments: [SampleFiles.file("invoice.pdf", "application/pdf", SampleFiles.pdf)])),
                form: .submitted
            ).get()
            let other = try ActionRegistry.validate(action: "gmail.send", params: .object(variant), form: .submitted).get()
            #expect(other.payloadHash != base.payloadHash)
        }
        // The executor's copy: bytes that do not hash to the description are refused.
        let email = try GmailSend.parse(submitted.params, form: .stored).get()
        var tampered = submitted.contents.bytes
        tampered[EmailAttachment.sha256(of: SampleFiles.csv)] = Data("date,amount\n".utf8)
        #expect(throws: AttachmentMismatch(filename: "lines.csv")) { try email.withContents(AttachmentContents(tampered)).get() }
        #expect(try email.withContents(submitted.contents).get().contents == submitted.contents)
    }

    @Test func policyConstraintsOnFiles() throws {
        let action = try ActionRegistry.validate(action: "gmail.send", params: .object(SampleFiles.invoice), form: .submitted).get()
        func violation(_ constraints: JSONValue) throws -> String? {
            try PolicyConstraints.parse(constraints, for: .gmailSend).get().violation(of: action)
        }
        #expect(try violation(["max_attachments": 0]) == "the policy allows no attachments; the message has 3")
        #expect(try violation(["max_attachments": 3]) == nil)
        #expect(try violation(["max_attachment_bytes": 1000])?.hasPrefix("invoice.pdf (application/pdf) is 5009 bytes") == true)
        #expect(try violation(["allowed_attachment_types": ["application/pdf", "image/*"]]) == "lines.csv is text/csv, which the policy does not allow")
        #expect(try violation(["allowed_attachment_types": ["application/pdf", "image/*", "text/csv"]]) == nil)
        if case .failure(let failure) = PolicyConstraints.parse(["allowed_attachment_types": ["pdf"], "max_attachments": 11], for: .gmailSend) {
            #expect(failure.errors.map(\.field) == ["constraints.allowed_attachment_types[0]", "constraints.max_attachments"])
        } else {
            Issue.record("bad constraints accepted")
        }
    }
}
