import Auth
import Foundation

/// A key to store: its secret's hash comes with it, never the secret.
public struct NewAPIKey: Sendable {
    public var workspaceID: String
    public var name: String
    public var scopes: Set<Scope>
    public var expiresAt: Date?
    public var actsFor: String?
    /// Who creates it: its `created_by`, and the head of its creator chain (which goes on
    /// with the creating key's own chain).
    public var createdBy: KeyAdministrator
    public var secret: APIKeyToken

    public init(
        workspaceID: String, name: String, scopes: Set<Scope>, expiresAt: Date?, actsFor: String?, createdBy: KeyAdministrator,
        secret: APIKeyToken
    ) {
        self.workspaceID = workspaceID
        self.name = name
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.actsFor = actsFor
        self.createdBy = createdBy
        self.secret = secret
    }
}

/// A change to an existing key.
public enum KeyChange: Sendable {
    /// Revoked at once; revoking a revoked key changes nothing and is not audited again.
    case revoke
    /// A new secret; the previous one works for `overlapSeconds` more (never past the
    /// key's expiry), and whoever rotates joins the key's creator chain.
    case rotate(secret: APIKeyToken, overlapSeconds: Int, by: KeyAdministrator)

    /// The audit action of the change, and of its refusal with `_refused`.
    public var auditAction: String {
        switch self {
        case .revoke: return "key.revoke"
        case .rotate: return "key.rotate"
        }
    }
}

/// Why key administration did not happen (besides `KeyRefusal`, a rule of the gate).
public enum KeyAdministrationError: Error, Sendable, Equatable {
    /// No such key in the workspace (keys of other workspaces included).
    case notFound
    /// A revoked key cannot be rotated.
    case revoked
    case unknownWorkspace
    /// Refused by `KeyAdministrationRules`; the refusal is in the audit log.
    case refused(KeyRefusal)
}

/// Where keys are stored. Each call is one transaction with its audit rows.
public protocol KeyAdministrationStore: Sendable {
    /// Stores the key with its `key.created` row; `unknownWorkspace` if there is none.
    func insert(_ key: NewAPIKey, actor: AuditActor) async throws -> APIKeyRecord
    /// Locks the key, asks `allowed` (the rules, on the key as it is now) and either
    /// records the refusal (`<auditAction>_refused`, throwing `refused`) or makes the
    /// change with its audit row. `notFound` outside its workspace; `revoked` when
    /// rotating a revoked key.
    func change(
        _ change: KeyChange, workspaceID: String, id: String, actor: AuditActor,
        allowed: @escaping @Sendable (APIKeyRecord) -> KeyRefusal?
    ) async throws -> APIKeyRecord
    /// An audit row written on its own (a refused creation).
    func record(_ event: AuditEvent) async throws
}
