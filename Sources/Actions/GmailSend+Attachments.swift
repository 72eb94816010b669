import Foundation
import GateCore

extension GmailSend {
    /// At most this many files (attachments and inline images together) per message.
    public static let maxFiles = 10
    /// Gmail refuses a message larger than 25 MB once encoded; the size is computed
    /// exactly (`MIMEMessage.encodedSize`) before a job is made.
    public static let maxMessageBytes = 25_000_000

    /// How params arrive: from an agent, with each file's bytes in `content_base64`; or
    /// as stored (and hashed), where each file is described by `size` and `sha256` and
    /// its bytes wait in `job_attachments`. An agent cannot submit the stored form: a
    /// description without bytes is refused.
    public enum ParamsForm: Sendable {
        case submitted
        case stored
    }

    /// Reads `attachments` and `inline`, adding each file's bytes (submitted form) to `contents`.
    static func files(
        _ reader: inout ParamReader, form: ParamsForm, contents: inout AttachmentContents
    ) -> (attachments: [EmailAttachment], inline: [EmailAttachment]) {
        var attachments: [EmailAttachment] = []
        var inline: [EmailAttachment] = []
        for (key, isInline) in [("attachments", false), ("inline", true)] {
            guard let items = reader.objects(key, count: 0...maxFiles) else { continue }
            for var item in items {
                if let file = file(&item, inline: isInline, form: form, contents: &contents) {
                    if isInline { inline.append(file) } else { attachments.append(file) }
                }
                reader.absorb(&item)
            }
        }
        if attachments.count + inline.count > maxFiles {
            reader.fail("attachments", "attachments and inline together must have at most \(maxFiles) files")
        }
        var seen: Set<String> = []
        for (index, file) in inline.enumerated() where !seen.insert(file.contentID!.lowercased()).inserted {
            reader.fail("inline", index: index, "content_id \(file.contentID!) is used twice")
        }
        return (attachments, inline)
    }

    private static func file(
        _ item: inout ParamReader, inline: Bool, form: ParamsForm, contents: inout AttachmentContents
    ) -> EmailAttachment? {
        let errorsBefore = item.errors.count
        var contentID: String?
        if inline {
            contentID = item.string("content_id", required: true, maxLength: 100)
            if let id = contentID, !id.unicodeScalars.allSatisfy(Self.contentIDCharacters.contains) {
                item.fail("content_id", "must be letters, digits and . - _ @ + only")
            }
        }
        let rawName = item.string("filename", required: true, maxLength: 1000)
        var filename: String?
        if let rawName {
            filename = AttachmentFilename.sanitized(rawName)
            if filename == nil {
                item.fail("filename", "must keep a name once paths and control characters are removed (at most 255 bytes)")
            } else if form == .stored, filename != rawName {
                item.fail("filename", "is not in stored form")
            }
        }
        let contentType = item.string("content_type", required: true, maxLength: 255)?.lowercased()
        if let contentType {
            if AttachmentTypes.signatures[contentType] == nil {
                item.fail("content_type", "is not allowed for attachments; allowed: \(AttachmentTypes.allowed.joined(separator: ", "))")
            } else if inline, !AttachmentTypes.inline.contains(contentType) {
                item.fail("content_type", "inline files must be images: \(AttachmentTypes.inline.sorted().joined(separator: ", "))")
            }
        }
        let size: Int
        let sha256: String
        switch form {
        case .submitted:
            guard let bytes = base64Content(&item) else { return nil }
            guard item.errors.count == errorsBefore, let filename, let contentType else { return nil }
            if let refusal = AttachmentTypes.refusal(filename: filename, contentType: contentType, bytes: bytes) {
                item.fail("content_base64", "\(filename) (\(contentType)): \(refusal)")
                return nil
            }
            size = bytes.count
            sha256 = EmailAttachment.sha256(of: bytes)
            contents.add(bytes, sha256: sha256)
        case .stored:
            guard case .integer(let stored)? = item.value("size"), stored > 0,
                case .string(let hash)? = item.value("sha256"), hash.utf8.count == 64,
                hash.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else {
                item.fail("sha256", "stored files need a size and a lower-case hex SHA-256")
                return nil
            }
            size = stored
            sha256 = hash
        }
        guard item.errors.count == errorsBefore, let filename, let contentType else { return nil }
        return EmailAttachment(filename: filename, contentType: contentType, size: size, sha256: sha256, contentID: contentID)
    }

    /// Strict base64 (RFC 4648 §4, padded); line breaks are not accepted, so the
    /// length is the whole story. Reads the string's UTF-8 view only: counting the
    /// characters of 25 MB would cost more than decoding it.
    private static func base64Content(_ item: inout ParamReader) -> Data? {
        guard let value = item.value("content_base64") else {
            item.fail("content_base64", "is required")
            return nil
        }
        guard case .string(let text) = value else {
            item.fail("content_base64", "must be a base64 string")
            return nil
        }
        guard !text.isEmpty else {
            item.fail("content_base64", "must not be empty (an empty file)")
            return nil
        }
        guard text.utf8.count <= (maxMessageBytes / 3 + 1) * 4, let bytes = Data(base64Encoded: text), !bytes.isEmpty else {
            item.fail(
                "content_base64",
                text.utf8.count > (maxMessageBytes / 3 + 1) * 4
                    ? "is larger than a message may be (\(maxMessageBytes) bytes encoded)"
                    : "must be standard base64 (RFC 4648 §4, with = padding, no line breaks)")
            return nil
        }
        return bytes
    }

    /// RFC 2392 `cid:` URLs are the Content-ID's `addr-spec`; a conservative subset
    /// keeps them unambiguous in HTML attributes and in the header.
    static let contentIDCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@+".unicodeScalars)

    /// Inline images need HTML that shows them: each `content_id` must appear in it as `cid:<id>`.
    static func unreferencedInline(_ inline: [EmailAttachment], html: String?) -> [Int] {
        guard let html else { return Array(inline.indices) }
        let lowered = html.lowercased()
        return inline.indices.filter { !lowered.contains("cid:\(inline[$0].contentID!.lowercased())") }
    }

    /// The files in the order the message carries them, each with its JSON path.
    var filesWithPaths: [(path: String, file: EmailAttachment)] {
        inline.enumerated().map { ("params.inline[\($0.offset)]", $0.element) }
            + attachments.enumerated().map { ("params.attachments[\($0.offset)]", $0.element) }
    }

    /// The first file at which the encoded message passes Gmail's limit, as a field error.
    /// Every gmail.send submission passes here, so a message without files is measured
    /// only when its bodies could come near the limit: under 16 MB of UTF-8 together
    /// (at most one added CR per line break, 2 × 512 Ki of them) their base64 lines stay
    /// below 24 MB. Characters are graphemes, so 512 Ki of them can still be many MB.
    func sizeError() -> FieldError? {
        guard !files.isEmpty || text.utf8.count + (html?.utf8.count ?? 0) > 16_000_000 else { return nil }
        let sizes = MIMEMessage(email: self).encodedSizeAfterEachFile()
        guard let total = sizes.last, total > Self.maxMessageBytes else { return nil }
        let files = filesWithPaths
        let index = sizes.firstIndex { $0 > Self.maxMessageBytes } ?? 0
        guard index > 0, index - 1 < files.count else {
            return FieldError(
                field: "params", message: "the message is \(sizes[0]) bytes encoded before any file; Gmail's limit is \(Self.maxMessageBytes)")
        }
        let (path, file) = files[index - 1]
        return FieldError(
            field: path,
            message: "with \(file.filename) (\(file.size) bytes) the message is \(sizes[index]) bytes encoded; "
                + "Gmail's limit is \(Self.maxMessageBytes)")
    }
}
