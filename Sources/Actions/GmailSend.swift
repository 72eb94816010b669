import GateCore

/// `gmail.send` params: `to` (1–100), `cc`, `bcc`, `subject`, `text`, optional `html`,
/// optional `reply_to`, `attachments` and `inline` images (at most 10 files, the
/// encoded message within Gmail's 25 MB; `GmailSend+Attachments`). Total recipients
/// are at most 100.
public struct GmailSend: Sendable, Equatable {
    public static let maxRecipients = 100
    public static let maxBodyCharacters = 512 * 1024

    public let to: [EmailAddress]
    public let cc: [EmailAddress]
    public let bcc: [EmailAddress]
    public let replyTo: EmailAddress?
    public let subject: String
    public let text: String
    public let html: String?
    public let attachments: [EmailAttachment]
    /// Images the HTML shows by `cid:`.
    public let inline: [EmailAttachment]
    /// The files' bytes: from the submission, or read back for the executor
    /// (`withContents`). Rendering needs every file's bytes.
    public let contents: AttachmentContents

    public var files: [EmailAttachment] { inline + attachments }

    public init(
        to: [EmailAddress], cc: [EmailAddress] = [], bcc: [EmailAddress] = [], replyTo: EmailAddress? = nil, subject: String,
        text: String, html: String? = nil, attachments: [EmailAttachment] = [], inline: [EmailAttachment] = [],
        contents: AttachmentContents = AttachmentContents()
    ) {
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
        self.inline = inline
        self.contents = contents
    }

    /// The same message with the files' bytes, once they match what was hashed.
    public func withContents(_ stored: AttachmentContents) -> Result<GmailSend, AttachmentMismatch> {
        stored.verified(for: files).map { verified in
            GmailSend(
                to: to, cc: cc, bcc: bcc, replyTo: replyTo, subject: subject, text: text, html: html,
                attachments: attachments, inline: inline, contents: verified)
        }
    }

    public var recipients: [EmailAddress] { to + cc + bcc }

    /// Validates params as submitted, or as stored (the executor re-parses what was approved).
    public static func parse(_ params: JSONValue, form: ParamsForm) -> Result<GmailSend, ValidationFailure> {
        var reader: ParamReader
        switch ParamReader.object(params, path: "params") {
        case .success(let object): reader = object
        case .failure(let failure): return .failure(failure)
        }
        let to = addresses(&reader, "to", required: true)
        let cc = addresses(&reader, "cc", required: false) ?? []
        let bcc = addresses(&reader, "bcc", required: false) ?? []
        let replyToText = reader.string("reply_to", required: false, maxLength: 320)
        var replyTo: EmailAddress?
        if let replyToText {
            replyTo = EmailAddress(replyToText)
            if replyTo == nil { reader.fail("reply_to", "is not a valid email address") }
        }
        let subject = reader.string("subject", required: true, maxLength: 500)
        let text = reader.string("text", required: true, maxLength: maxBodyCharacters, singleLine: false)
        let html = reader.string("html", required: false, maxLength: maxBodyCharacters, singleLine: false)
        var contents = AttachmentContents()
        let (attachments, inline) = files(&reader, form: form, contents: &contents)
        for index in unreferencedInline(inline, html: html) {
            reader.fail("inline", index: index, "is not shown by html: it must contain cid:\(inline[index].contentID!)")
        }
        reader.rejectUnknownFields()
        if let to, to.count + cc.count + bcc.count > maxRecipients {
            reader.fail("to", "to, cc and bcc together must have at most \(maxRecipients) recipients")
        }
        guard reader.errors.isEmpty, let to, let subject, let text else { return .failure(ValidationFailure(reader.errors)) }
        let email = GmailSend(
            to: to, cc: cc, bcc: bcc, replyTo: replyTo, subject: subject, text: text, html: html, attachments: attachments,
            inline: inline, contents: contents)
        if let tooLarge = email.sizeError() { return .failure(ValidationFailure([tooLarge])) }
        return .success(email)
    }

    private static func addresses(_ reader: inout ParamReader, _ key: String, required: Bool) -> [EmailAddress]? {
        guard let texts = reader.strings(key, required: required, count: (required ? 1 : 0)...maxRecipients, maxLength: 320)
        else { return nil }
        var parsed: [EmailAddress] = []
        for (index, text) in texts.enumerated() {
            if let address = EmailAddress(text) { parsed.append(address) } else {
                reader.fail(key, index: index, "is not a valid email address")
            }
        }
        return parsed.count == texts.count ? parsed : nil
    }

    /// The params as stored and hashed: addresses normalized, absent fields omitted.
    var normalized: JSONValue {
        var object: [String: JSONValue] = [
            "to": .array(to.map { .string($0.text) }), "subject": .string(subject), "text": .string(text),
        ]
        if !cc.isEmpty { object["cc"] = .array(cc.map { .string($0.text) }) }
        if !bcc.isEmpty { object["bcc"] = .array(bcc.map { .string($0.text) }) }
        if let replyTo { object["reply_to"] = .string(replyTo.text) }
        if let html { object["html"] = .string(html) }
        if !attachments.isEmpty { object["attachments"] = .array(attachments.map(\.json)) }
        if !inline.isEmpty { object["inline"] = .array(inline.map(\.json)) }
        return .object(object)
    }

    /// What the reviewer sees: the exact header lines of the message (Date and
    /// Message-ID are added when it is sent) and both bodies.
    var preview: JSONValue {
        let message = MIMEMessage(email: self)
        var object: [String: JSONValue] = [
            "headers": .array(message.headers(date: nil, messageID: nil).map { .string("\($0.name): \($0.value)") }),
            "to": .array(to.map { .string($0.text) }), "subject": .string(subject), "text": .string(text),
            "recipient_count": .integer(recipients.count),
        ]
        if !cc.isEmpty { object["cc"] = .array(cc.map { .string($0.text) }) }
        if !bcc.isEmpty { object["bcc"] = .array(bcc.map { .string($0.text) }) }
        if let replyTo { object["reply_to"] = .string(replyTo.text) }
        if let html { object["html"] = .string(html) }
        if !attachments.isEmpty { object["attachments"] = .array(attachments.map(\.json)) }
        if !inline.isEmpty { object["inline"] = .array(inline.map(\.json)) }
        if !files.isEmpty { object["message_bytes"] = .integer(MIMEMessage(email: self).encodedSizeAfterEachFile().last ?? 0) }
        return .object(object)
    }
}
