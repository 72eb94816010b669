import Actions
import Crypto
import Foundation
import GateCore

/// A workspace's webhook signing secret as stored: the secret itself only sealed.
public struct StoredWebhookSecret: Sendable, Equatable {
    public let id: String
    public let workspaceID: String
    public let sealed: String
    public let createdBy: String
    public let createdAt: Date
    /// nil for the current secret; for a replaced one, when its overlap ends.
    public let expiresAt: Date?

    public init(id: String, workspaceID: String, sealed: String, createdBy: String, createdAt: Date, expiresAt: Date?) {
        (self.id, self.workspaceID, self.sealed) = (id, workspaceID, sealed)
        (self.createdBy, self.createdAt, self.expiresAt) = (createdBy, createdAt, expiresAt)
    }

    /// Whether deliveries made at `now` are signed with it.
    public func signs(at now: Date = Date()) -> Bool { expiresAt.map { $0 > now } ?? true }
}

/// Why a webhook secret operation changed nothing.
public enum WebhookSecretRefusal: Error, Sendable, Equatable {
    /// `overlap_seconds` outside 0 … `ManageWebhookSecrets.maximumOverlapSeconds`.
    case overlapOutOfRange
    /// The server has no SECRETS_KEY: a secret could not be stored sealed.
    case sealingUnavailable
    case unknownWorkspace
    /// No secret with that id in the workspace.
    case notFound
}

/// Where the secrets live. Every change is audited in its own transaction; the
/// audit rows never hold the secret. Throws `WebhookSecretRefusal.unknownWorkspace`
/// and `.notFound`.
public protocol WebhookSecretStoring: Sendable {
    /// Makes `sealed` the current secret; the previous current one keeps signing for
    /// `overlapSeconds`, older ones stop now.
    func rotate(workspaceID: String, id: String, sealed: String, overlapSeconds: Int, createdBy: String, actor: AuditActor)
        async throws -> StoredWebhookSecret
    /// The secrets that sign now (current first), and those that stopped within the last day.
    func list(workspaceID: String) async throws -> [StoredWebhookSecret]
    /// Stops a secret signing at once; one that already stopped is left as it is.
    func revoke(workspaceID: String, id: String, actor: AuditActor) async throws
}

/// Rotating, listing and revoking a workspace's webhook signing secrets: the same
/// rules for the REST routes and `gate-api webhook-secrets`.
public struct ManageWebhookSecrets: Sendable {
    /// How long the replaced secret keeps signing by default: a day to roll receivers over.
    public static let defaultOverlapSeconds = 86400
    public static let maximumOverlapSeconds = 2_592_000
    /// What every secret starts with (Standard Webhooks' `whsec_`).
    public static let secretPrefix = "whsec_"

    let store: any WebhookSecretStoring
    /// SECRETS_KEY; without it nothing can be stored.
    let secrets: SecretBox?

    public init(store: any WebhookSecretStoring, secrets: SecretBox?) {
        self.store = store
        self.secrets = secrets
    }

    /// A new secret, shown to the caller once (`secret`) and stored only sealed.
    public func rotate(workspaceID: String, overlapSeconds: Int?, createdBy: String, actor: AuditActor) async throws
        -> (stored: StoredWebhookSecret, secret: String)
    {
        let overlap = overlapSeconds ?? Self.defaultOverlapSeconds
        guard (0...Self.maximumOverlapSeconds).contains(overlap) else { throw WebhookSecretRefusal.overlapOutOfRange }
        guard let secrets else { throw WebhookSecretRefusal.sealingUnavailable }
        let secret = Self.newSecret()
        let sealed = try secrets.seal(secret, workspaceID: workspaceID)
        let stored = try await store.rotate(
            workspaceID: workspaceID, id: "whs_" + Base32.random(count: 16), sealed: sealed, overlapSeconds: overlap,
            createdBy: createdBy, actor: actor)
        return (stored, secret)
    }

    public func list(workspaceID: String) async throws -> [StoredWebhookSecret] {
        try await store.list(workspaceID: workspaceID)
    }

    public func revoke(workspaceID: String, id: String, actor: AuditActor) async throws {
        try await store.revoke(workspaceID: workspaceID, id: id, actor: actor)
    }

    /// `whsec_` + base64 of 32 random bytes.
    public static func newSecret() -> String {
        secretPrefix + Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
    }
}
