import Crypto
import Foundation
import GateCore

/// A workspace's Google OAuth credentials for `gmail.send`. Stored as JSON sealed by
/// `SecretBox`:
///
///     {"type":"access_token","access_token":"ya29…"}
///     {"type":"refresh_token","refresh_token":"1//…","client_id":"….apps.googleusercontent.com","client_secret":"…"}
///
/// A static access token works until it expires (about an hour); refresh credentials
/// let the server mint access tokens as needed. `description`, `debugDescription` and
/// the reflection mirror are redacted so that logging or dumping one never leaks it.
public enum GoogleCredentials: Sendable, Hashable {
    case accessToken(String)
    case refreshToken(refreshToken: String, clientID: String, clientSecret: String)

    /// Generous limits: Google documents tokens up to 2048 bytes; no field is anywhere near 4096.
    public static let maxTokenLength = 4096
    public static let maxClientFieldLength = 1024

    /// Refresh credentials can be refreshed after a 401; a static access token cannot.
    public var canRefresh: Bool {
        if case .refreshToken = self { return true }
        return false
    }

    /// The credentials if every field is usable: non-empty, within its length limit,
    /// and only visible ASCII (they go into an HTTP header or a form body).
    public func validated() throws(GoogleCredentialsError) -> GoogleCredentials {
        switch self {
        case .accessToken(let token):
            try Self.check(token, "access_token", max: Self.maxTokenLength)
        case .refreshToken(let refreshToken, let clientID, let clientSecret):
            try Self.check(refreshToken, "refresh_token", max: Self.maxTokenLength)
            try Self.check(clientID, "client_id", max: Self.maxClientFieldLength)
            try Self.check(clientSecret, "client_secret", max: Self.maxClientFieldLength)
        }
        return self
    }

    /// SHA-256 over the workspace and every field, hex: a cache key that identifies
    /// the credentials without keeping the raw secret around as a dictionary key.
    public func fingerprint(workspaceID: String) -> String {
        var hasher = SHA256()
        // Length-prefixed fields: ("ab","c") and ("a","bc") must not collide.
        let fields: [String] =
            switch self {
            case .accessToken(let token): [workspaceID, "access_token", token]
            case .refreshToken(let refreshToken, let clientID, let clientSecret):
                [workspaceID, "refresh_token", refreshToken, clientID, clientSecret]
            }
        for field in fields {
            hasher.update(data: Data("\(field.utf8.count):".utf8))
            hasher.update(data: Data(field.utf8))
        }
        return Hex.encode(hasher.finalize())
    }

    /// The JSON form sealed for a workspace.
    public func sealed(with box: SecretBox, workspaceID: String) throws -> String {
        let json = try JSONEncoder.sortedKeys.encode(try validated())
        return try box.seal(json, workspaceID: workspaceID)
    }

    /// Opens and validates what `sealed(with:workspaceID:)` produced.
    public static func open(_ sealed: String, with box: SecretBox, workspaceID: String) throws -> GoogleCredentials {
        try JSONDecoder().decode(GoogleCredentials.self, from: try box.open(sealed, workspaceID: workspaceID))
    }

    private static func check(_ value: String, _ field: String, max: Int) throws(GoogleCredentialsError) {
        if value.isEmpty { throw .invalid(field: field, reason: "must not be empty") }
        if value.utf8.count > max { throw .invalid(field: field, reason: "must be at most \(max) bytes") }
        if !value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            throw .invalid(field: field, reason: "must be visible ASCII without spaces")
        }
    }
}

extension GoogleCredentials: Codable {
    private enum CodingKeys: String, CodingKey {
        case type
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case clientID = "client_id"
        case clientSecret = "client_secret"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        let credentials: GoogleCredentials
        switch type {
        case "access_token":
            credentials = .accessToken(try container.decode(String.self, forKey: .accessToken))
        case "refresh_token":
            credentials = .refreshToken(
                refreshToken: try container.decode(String.self, forKey: .refreshToken),
                clientID: try container.decode(String.self, forKey: .clientID),
                clientSecret: try container.decode(String.self, forKey: .clientSecret))
        default:
            throw GoogleCredentialsError.invalid(field: "type", reason: "must be \"access_token\" or \"refresh_token\"")
        }
        self = try credentials.validated()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .accessToken(let token):
            try container.encode("access_token", forKey: .type)
            try container.encode(token, forKey: .accessToken)
        case .refreshToken(let refreshToken, let clientID, let clientSecret):
            try container.encode("refresh_token", forKey: .type)
            try container.encode(refreshToken, forKey: .refreshToken)
            try container.encode(clientID, forKey: .clientID)
            try container.encode(clientSecret, forKey: .clientSecret)
        }
    }
}

extension GoogleCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The client id is not secret (it is in every consent URL), so it is shown to tell
    /// credentials apart; tokens and the client secret never are.
    public var description: String {
        switch self {
        case .accessToken: "GoogleCredentials.accessToken(<redacted>)"
        case .refreshToken(_, let clientID, _):
            "GoogleCredentials.refreshToken(client_id: \(clientID.prefix(80)), refresh_token: <redacted>, client_secret: <redacted>)"
        }
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["redacted": description]) }
}

/// Names the bad field, never its value.
public enum GoogleCredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "Google credentials: \(field) \(reason)"
        }
    }
}

extension JSONEncoder {
    static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
