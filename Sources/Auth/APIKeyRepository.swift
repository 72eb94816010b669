import Foundation

/// A stored API key, without its secret.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var workspaceID: String
    public var name: String
    public var scopes: Set<Scope>
    public var secretHash: [UInt8]
    public var previousSecretHash: [UInt8]?
    public var previousSecretExpiresAt: Date?
    public var createdBy: String
    public var actsFor: String?
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var rotatedAt: Date?
    public var lastUsedAt: Date?

    public init(
        id: String, workspaceID: String, name: String, scopes: Set<Scope>, secretHash: [UInt8],
        previousSecretHash: [UInt8]? = nil, previousSecretExpiresAt: Date? = nil, createdBy: String,
        actsFor: String? = nil, createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil,
        rotatedAt: Date? = nil, lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.name = name
        self.scopes = scopes
        self.secretHash = secretHash
        self.previousSecretHash = previousSecretHash
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.createdBy = createdBy
        self.actsFor = actsFor
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.rotatedAt = rotatedAt
        self.lastUsedAt = lastUsedAt
    }
}

/// Where API keys live. The Postgres implementation is in Persistence; the
/// authenticator only needs a lookup by id and a cheap "last used" touch.
public protocol APIKeyLookup: Sendable {
    func find(id: String) async throws -> APIKeyRecord?
    /// Records use; called at most about once a minute per key and replica.
    func touchLastUsed(id: String) async throws
}
