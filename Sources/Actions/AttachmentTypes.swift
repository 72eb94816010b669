import Foundation

/// Which files a `gmail.send` may carry, and whether bytes are what they claim to be.
/// The server's list is the most a policy can allow (`allowed_attachment_types`
/// narrows it). Not on it: anything a mail client runs or renders with scripts
/// (executables, installers, scripts, HTML, SVG) and `application/octet-stream`,
/// whose bytes could be anything.
public enum AttachmentTypes {
    /// Each allowed type with how its bytes are recognised.
    static let signatures: [String: Signature] = [
        "application/pdf": .pdf,
        "text/csv": .text, "text/plain": .text, "text/calendar": .text, "application/json": .text,
        "image/png": .png, "image/jpeg": .jpeg, "image/gif": .gif, "image/webp": .webp,
        "application/zip": .zip,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": .zip,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": .zip,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation": .zip,
        "application/vnd.oasis.opendocument.text": .zip,
        "application/vnd.oasis.opendocument.spreadsheet": .zip,
        "application/vnd.oasis.opendocument.presentation": .zip,
        "application/msword": .compoundFile, "application/vnd.ms-excel": .compoundFile,
        "application/vnd.ms-powerpoint": .compoundFile,
    ]

    public static var allowed: [String] { signatures.keys.sorted() }

    /// Inline parts are shown inside the message, so only raster images.
    public static let inline: Set<String> = ["image/png", "image/jpeg", "image/gif", "image/webp"]

    /// A filename extension that names a type: a name must not promise another type
    /// than the part says (a CSV called `invoice.pdf` misleads the reviewer and the recipient).
    static let extensions: [String: String] = [
        "pdf": "application/pdf", "csv": "text/csv", "txt": "text/plain", "ics": "text/calendar",
        "json": "application/json", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "webp": "image/webp", "zip": "application/zip",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "odp": "application/vnd.oasis.opendocument.presentation", "doc": "application/msword",
        "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    ]

    /// Extensions mail clients and operating systems run or open as active content,
    /// refused whatever the part's type says.
    static let refusedExtensions: Set<String> = [
        "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "msc", "dll", "cpl", "js", "jse", "vbs", "vbe", "wsf",
        "wsh", "ps1", "psm1", "sh", "bash", "zsh", "jar", "app", "apk", "dmg", "pkg", "deb", "rpm", "lnk", "reg", "hta",
        "iso", "img", "vhd", "vhdx", "html", "htm", "xhtml", "svg", "mht", "mhtml", "xll", "docm", "xlsm", "pptm",
    ]

    enum Signature {
        case pdf, png, jpeg, gif, webp, zip, compoundFile, text
    }

    /// Why `bytes` cannot be sent as `contentType` under `filename`, or nil. The type
    /// must be on the list; the bytes must start the way that type's files do (a text
    /// type must be UTF-8 without NUL); and nothing that starts like a program passes.
    public static func refusal(filename: String, contentType: String, bytes: Data) -> String? {
        guard let signature = signatures[contentType] else {
            return "content_type \(contentType) is not allowed for attachments"
        }
        let ext = filename.split(separator: ".").count > 1 ? filename.split(separator: ".").last.map { $0.lowercased() } : nil
        if let ext, refusedExtensions.contains(ext) { return "files named .\(ext) are not allowed" }
        if let ext, let named = extensions[ext], named != contentType {
            return "the name's extension .\(ext) is for \(named), not \(contentType)"
        }
        if looksExecutable(bytes) { return "the content is a program, not \(contentType)" }
        guard matches(signature, bytes) else { return "the content is not \(contentType)" }
        return nil
    }

    /// Windows PE (`MZ`), ELF, Mach-O (both byte orders, 32/64-bit and universal) and
    /// scripts with an interpreter line (`#!`).
    static func looksExecutable(_ bytes: Data) -> Bool {
        let magic: [[UInt8]] = [
            [0x4D, 0x5A], [0x7F, 0x45, 0x4C, 0x46], [0xFE, 0xED, 0xFA, 0xCE], [0xFE, 0xED, 0xFA, 0xCF],
            [0xCE, 0xFA, 0xED, 0xFE], [0xCF, 0xFA, 0xED, 0xFE], [0xCA, 0xFE, 0xBA, 0xBE], [0x23, 0x21],
        ]
        return magic.contains { bytes.starts(with: $0) }
    }

    static func matches(_ signature: Signature, _ bytes: Data) -> Bool {
        switch signature {
        case .pdf:
            // A PDF's header may follow up to 1,024 bytes of anything (PDF 1.7 §7.5.2 note).
            return bytes.prefix(1024).range(of: Data("%PDF-".utf8)) != nil
        case .png: return bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        case .jpeg: return bytes.starts(with: [0xFF, 0xD8, 0xFF])
        case .gif: return bytes.starts(with: Data("GIF87a".utf8)) || bytes.starts(with: Data("GIF89a".utf8))
        case .webp:
            return bytes.count >= 12 && bytes.starts(with: Data("RIFF".utf8))
                && bytes.dropFirst(8).prefix(4).elementsEqual("WEBP".utf8)
        case .zip:
            // A local file header, or the end record of an empty archive.
            return bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06])
        case .compoundFile: return bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        case .text:
            return !bytes.contains(0) && String(validating: bytes, as: UTF8.self) != nil
        }
    }

    /// `type/subtype` or `type/*` as a policy writes it.
    static func isPattern(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let token = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$&-^_.+")
        return parts.count == 2 && !parts[0].isEmpty && parts[0].allSatisfy(token.contains)
            && (parts[1] == "*" || (!parts[1].isEmpty && parts[1].allSatisfy(token.contains)))
    }

    static func pattern(_ pattern: String, matches type: String) -> Bool {
        if pattern.hasSuffix("/*") { return type.hasPrefix(pattern.dropLast()) }
        return pattern == type
    }
}

/// File names as a message may carry them: the last component of any path (`/` or
/// `\`), without control or format characters, trimmed of spaces and dots at the ends
/// (Windows drops trailing ones, leading ones hide a file), at most 255 UTF-8 bytes.
enum AttachmentFilename {
    static let maxBytes = 255

    static func sanitized(_ name: String) -> String? {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var scalars = String.UnicodeScalarView()
        for scalar in last.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse: continue
            default: scalars.append(scalar)
            }
        }
        let trimmed = String(scalars).trimmingCharacters(in: CharacterSet(charactersIn: " ."))
        guard !trimmed.isEmpty, trimmed.utf8.count <= maxBytes else { return nil }
        return trimmed
    }
}
