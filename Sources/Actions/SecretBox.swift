import Crypto
import Foundation

/// Encrypts credentials at rest with AES-256-GCM under `SECRETS_KEY`.
///
/// Sealed text format, version 1: `v1.<base64(nonce[12] | ciphertext | tag[16])>`, with
/// the associated data `gateapi-secret-v1:<workspace id>`. The associated data binds a
/// ciphertext to its workspace: copying one workspace's row into another fails to open.
/// The version prefix leaves room for another algorithm or key scheme later; a reader
/// refuses versions it does not know. Key rotation: seal with the new key and list the
/// old one in `SECRETS_KEY_PREVIOUS` until every row has been re-sealed (`open` tries
/// the current key first, then the previous ones).
public struct SecretBox: Sendable {
    public static let formatVersion = "v1"

    private let key: SymmetricKey
    private let previousKeys: [SymmetricKey]

    public init(key: SymmetricKey, previousKeys: [SymmetricKey] = []) throws(SecretBoxError) {
        for candidate in [key] + previousKeys where candidate.bitCount != 256 {
            throw .invalidKey("a key must be 32 bytes, got \(candidate.bitCount / 8)")
        }
        self.key = key
        self.previousKeys = previousKeys
    }

    /// `base64Key`: the base64 encoding of exactly 32 random bytes (`openssl rand -base64 32`).
    public init(base64Key: String, previousBase64Keys: [String] = []) throws(SecretBoxError) {
        try self.init(key: Self.decodeKey(base64Key), previousKeys: previousBase64Keys.map { k throws(SecretBoxError) in try Self.decodeKey(k) })
    }

    /// From `SECRETS_KEY` and the optional comma-separated `SECRETS_KEY_PREVIOUS`.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SecretBoxError) -> SecretBox {
        guard let current = environment["SECRETS_KEY"], !current.isEmpty else { throw .missingKey }
        let previous = (environment["SECRETS_KEY_PREVIOUS"] ?? "").split(separator: ",").map {
            String($0).trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        return try SecretBox(base64Key: current, previousBase64Keys: previous)
    }

    public func seal(_ plaintext: Data, workspaceID: String) throws(SecretBoxError) -> String {
        do {
            let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: Self.associatedData(workspaceID))
            // `combined` is nil only for non-12-byte nonces; ours are always 12 bytes.
            guard let combined = box.combined else { throw SecretBoxError.malformed }
            return "\(Self.formatVersion).\(combined.base64EncodedString())"
        } catch {
            throw .malformed
        }
    }

    public func seal(_ plaintext: String, workspaceID: String) throws(SecretBoxError) -> String {
        try seal(Data(plaintext.utf8), workspaceID: workspaceID)
    }

    /// The plaintext, or `decryptionFailed` for a wrong key, another workspace or tampering
    /// (GCM cannot tell these apart, and must not).
    public func open(_ sealed: String, workspaceID: String) throws(SecretBoxError) -> Data {
        guard let dot = sealed.firstIndex(of: ".") else { throw .malformed }
        let version = String(sealed[..<dot])
        guard version == Self.formatVersion else { throw .unsupportedVersion(String(version.prefix(16))) }
        // nonce (12) + tag (16) at least.
        guard let combined = Data(base64Encoded: String(sealed[sealed.index(after: dot)...])), combined.count >= 28,
            let box = try? AES.GCM.SealedBox(combined: combined)
        else { throw .malformed }
        let associatedData = Self.associatedData(workspaceID)
        for candidate in [key] + previousKeys {
            if let plaintext = try? AES.GCM.open(box, using: candidate, authenticating: associatedData) { return plaintext }
        }
        throw .decryptionFailed
    }

    public func openString(_ sealed: String, workspaceID: String) throws(SecretBoxError) -> String {
        guard let text = String(data: try open(sealed, workspaceID: workspaceID), encoding: .utf8) else { throw .malformed }
        return text
    }

    static func associatedData(_ workspaceID: String) -> Data {
        Data("gateapi-secret-\(formatVersion):\(workspaceID)".utf8)
    }

    static func decodeKey(_ base64: String) throws(SecretBoxError) -> SymmetricKey {
        guard let bytes = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .invalidKey("it is not valid base64")
        }
        guard bytes.count == 32 else { throw .invalidKey("it decodes to \(bytes.count) bytes, not 32") }
        return SymmetricKey(data: bytes)
    }
}

/// Never carries key material or plaintext.
public enum SecretBoxError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingKey
    case invalidKey(String)
    case malformed
    case unsupportedVersion(String)
    case decryptionFailed

    public var description: String {
        switch self {
        case .missingKey:
            "SECRETS_KEY is not set: it must be the base64 encoding of 32 random bytes (openssl rand -base64 32)"
        case .invalidKey(let reason):
            "SECRETS_KEY is invalid: \(reason); it must be the base64 encoding of exactly 32 bytes (openssl rand -base64 32)"
        case .malformed: "the sealed secret is malformed"
        case .unsupportedVersion(let version): "the sealed secret has an unknown format version \"\(version)\""
        case .decryptionFailed: "the sealed secret cannot be opened: wrong key, wrong workspace or tampered"
        }
    }
}
