import Crypto
import Foundation
import GateCore

/// One file of a `gmail.send` message: an attachment, or an inline image the HTML
/// shows by `cid:`. What is stored, hashed and previewed is this description — name,
/// type, size and SHA-256 — while the bytes live beside the job (`job_attachments`),
/// so the `payload_hash` binds the reviewer's approval to exactly those bytes.
public struct EmailAttachment: Sendable, Equatable {
    /// As it will appear in the message: no path, no control characters.
    public let filename: String
    /// Lower case `type/subtype`, from `AttachmentTypes.allowed`.
    public let contentType: String
    public let size: Int
    /// Lower-case hex SHA-256 of the bytes.
    public let sha256: String
    /// Inline images only: the `Content-ID` the HTML refers to (`cid:<content_id>`).
    public let contentID: String?

    public var isInline: Bool { contentID != nil }

    public init(filename: String, contentType: String, size: Int, sha256: String, contentID: String?) {
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.contentID = contentID
    }

    /// The description as stored in the job's params (and hashed).
    var json: JSONValue {
        var object: [String: JSONValue] = [
            "filename": .string(filename), "content_type": .string(contentType), "size": .integer(size),
            "sha256": .string(sha256),
        ]
        if let contentID { object["content_id"] = .string(contentID) }
        return .object(object)
    }

    public static func sha256(of bytes: Data) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }
}

/// The bytes of a message's files by SHA-256: decoded from the submission, or read
/// back from `job_attachments` for the executor (which checks them against the hashes).
public struct AttachmentContents: Sendable, Equatable {
    public private(set) var bytes: [String: Data]

    public init(_ bytes: [String: Data] = [:]) {
        self.bytes = bytes
    }

    public subscript(sha256: String) -> Data? { bytes[sha256] }

    mutating func add(_ data: Data, sha256: String) {
        bytes[sha256] = data
    }

    /// The bytes of `files` once each matches its size and SHA-256; else the first file that does not.
    public func verified(for files: [EmailAttachment]) -> Result<AttachmentContents, AttachmentMismatch> {
        var kept: [String: Data] = [:]
        for file in files {
            guard let data = bytes[file.sha256], data.count == file.size, EmailAttachment.sha256(of: data) == file.sha256
            else { return .failure(AttachmentMismatch(filename: file.filename)) }
            kept[file.sha256] = data
        }
        return .success(AttachmentContents(kept))
    }
}

/// A stored file that is missing or no longer hashes to what was approved.
public struct AttachmentMismatch: Error, Sendable, Equatable {
    public let filename: String
}
