import GateCore

/// Per-action limits an admin can put on a policy, checked at submission (and again
/// at execution). `gmail.send`: `allowed_recipient_domains`, `max_recipients`,
/// `max_attachments` (files, inline images included; 0 forbids files),
/// `max_attachment_bytes` (each file's size), `allowed_attachment_types` (`type/subtype`
/// or `type/*`, narrowing `AttachmentTypes.allowed`).
public struct PolicyConstraints: Sendable, Equatable {
    public var allowedRecipientDomains: [String]?
    public var maxRecipients: Int?
    public var maxAttachments: Int?
    public var maxAttachmentBytes: Int?
    public var allowedAttachmentTypes: [String]?

    public init(
        allowedRecipientDomains: [String]? = nil, maxRecipients: Int? = nil, maxAttachments: Int? = nil,
        maxAttachmentBytes: Int? = nil, allowedAttachmentTypes: [String]? = nil
    ) {
        self.allowedRecipientDomains = allowedRecipientDomains
        self.maxRecipients = maxRecipients
        self.maxAttachments = maxAttachments
        self.maxAttachmentBytes = maxAttachmentBytes
        self.allowedAttachmentTypes = allowedAttachmentTypes
    }

    /// Parses the `constraints` object of a policy for `action`; unknown keys and
    /// constraints the action does not support are errors.
    public static func parse(_ value: JSONValue, for action: ActionName) -> Result<PolicyConstraints, ValidationFailure> {
        guard case .object(let members) = value else {
            return .failure(ValidationFailure([FieldError(field: "constraints", message: "must be a JSON object")]))
        }
        var constraints = PolicyConstraints()
        var errors: [FieldError] = []
        for (key, item) in members.sorted(by: { $0.key < $1.key }) {
            switch (action, key, item) {
            case (.gmailSend, "allowed_recipient_domains", .array(let domains)):
                var parsed: [String] = []
                for (index, domain) in domains.enumerated() {
                    guard case .string(let text) = domain, EmailAddress.isValidAddress("x@\(text)") else {
                        errors.append(FieldError(field: "constraints.\(key)[\(index)]", message: "must be a domain name"))
                        continue
                    }
                    parsed.append(text.lowercased())
                }
                constraints.allowedRecipientDomains = parsed
            case (.gmailSend, "max_recipients", .integer(let n)) where (1...GmailSend.maxRecipients).contains(n):
                constraints.maxRecipients = n
            case (.gmailSend, "max_attachments", .integer(let n)) where (0...GmailSend.maxFiles).contains(n):
                constraints.maxAttachments = n
            case (.gmailSend, "max_attachment_bytes", .integer(let n)) where (1...GmailSend.maxMessageBytes).contains(n):
                constraints.maxAttachmentBytes = n
            case (.gmailSend, "allowed_attachment_types", .array(let types)):
                var parsed: [String] = []
                for (index, type) in types.enumerated() {
                    guard case .string(let text) = type, AttachmentTypes.isPattern(text.lowercased()) else {
                        errors.append(FieldError(field: "constraints.\(key)[\(index)]", message: "must be a media type like application/pdf or image/*"))
                        continue
                    }
                    parsed.append(text.lowercased())
                }
                constraints.allowedAttachmentTypes = parsed
            case (.gmailSend, "max_attachments", _):
                errors.append(FieldError(field: "constraints.\(key)", message: "must be a whole number from 0 to \(GmailSend.maxFiles)"))
            case (.gmailSend, "max_attachment_bytes", _):
                errors.append(FieldError(field: "constraints.\(key)", message: "must be a whole number of bytes from 1 to \(GmailSend.maxMessageBytes)"))
            case (.gmailSend, "allowed_attachment_types", _):
                errors.append(FieldError(field: "constraints.\(key)", message: "must be an array of media types"))
            case (.gmailSend, "allowed_recipient_domains", _):
                errors.append(FieldError(field: "constraints.\(key)", message: "must be an array of domain names"))
            case (.gmailSend, "max_recipients", _):
                errors.append(FieldError(field: "constraints.\(key)", message: "must be a whole number from 1 to \(GmailSend.maxRecipients)"))
            default:
                errors.append(FieldError(field: "constraints.\(key)", message: "is not a constraint of \(action.rawValue)"))
            }
        }
        return errors.isEmpty ? .success(constraints) : .failure(ValidationFailure(errors))
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let allowedRecipientDomains { object["allowed_recipient_domains"] = .array(allowedRecipientDomains.map { .string($0) }) }
        if let maxRecipients { object["max_recipients"] = .integer(maxRecipients) }
        if let maxAttachments { object["max_attachments"] = .integer(maxAttachments) }
        if let maxAttachmentBytes { object["max_attachment_bytes"] = .integer(maxAttachmentBytes) }
        if let allowedAttachmentTypes { object["allowed_attachment_types"] = .array(allowedAttachmentTypes.map { .string($0) }) }
        return .object(object)
    }

    /// Why `action` breaks these constraints, or nil when it does not. A recipient
    /// domain matches an allowed domain exactly or as a subdomain of it.
    public func violation(of action: ValidatedAction) -> String? {
        if let maxRecipients, action.recipients.count > maxRecipients {
            return "\(action.recipients.count) recipients; the policy allows at most \(maxRecipients)"
        }
        if let allowed = allowedRecipientDomains {
            for recipient in action.recipients {
                let domain = recipient.domain
                if !allowed.contains(where: { domain == $0 || domain.hasSuffix(".\($0)") }) {
                    return "recipient domain \(domain) is not allowed by the policy"
                }
            }
        }
        return fileViolation(of: action.files)?.message
    }

    /// Names the file and its type, never its content (refusals are audited). The file
    /// is the one that broke a limit (the first past `max_attachments`).
    func fileViolation(of files: [EmailAttachment]) -> (message: String, file: EmailAttachment)? {
        if let maxAttachments, files.count > maxAttachments {
            return (
                maxAttachments == 0
                    ? "the policy allows no attachments; the message has \(files.count)"
                    : "\(files.count) files; the policy allows at most \(maxAttachments)",
                files[maxAttachments]
            )
        }
        for file in files {
            if let maxAttachmentBytes, file.size > maxAttachmentBytes {
                return ("\(file.filename) (\(file.contentType)) is \(file.size) bytes; the policy allows at most \(maxAttachmentBytes) per file", file)
            }
            if let allowed = allowedAttachmentTypes, !allowed.contains(where: { AttachmentTypes.pattern($0, matches: file.contentType) }) {
                return ("\(file.filename) is \(file.contentType), which the policy does not allow", file)
            }
        }
        return nil
    }

    /// The file that makes `action` break the stored constraints, when the violation
    /// `refusal` reported is about a file.
    public static func violatingFile(stored: JSONValue, of action: ValidatedAction, violation: String) -> EmailAttachment? {
        guard case .success(let constraints) = parse(stored, for: action.action),
            let found = constraints.fileViolation(of: action.files), found.message == violation
        else { return nil }
        return found.file
    }

    /// What stops `action` under a policy's stored constraints.
    public enum Refusal: Sendable, Equatable {
        case violated(String)
        /// The stored constraints cannot be read (edited by hand in the database).
        case unreadable
    }

    /// Stored constraints applied to `action`; nil when it may go ahead. Unreadable
    /// constraints refuse everything: a limit an admin set must never silently stop
    /// applying (at submission and again at execution).
    public static func refusal(stored: JSONValue, of action: ValidatedAction) -> Refusal? {
        switch parse(stored, for: action.action) {
        case .success(let constraints): constraints.violation(of: action).map(Refusal.violated)
        case .failure: .unreadable
        }
    }
}
