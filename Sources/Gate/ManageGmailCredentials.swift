import Actions
import Foundation
import GateCore

/// A workspace's Gmail credentials as stored: sealed (see `SecretBox`); only the
/// kind and who set them when are readable without SECRETS_KEY.
public struct StoredGmailCredentials: Sendable, Equatable {
    public let kind: String
    public let sealed: String
    public let updatedBy: String
    public let updatedAt: Date

    public init(kind: String, sealed: String, updatedBy: String, updatedAt: Date) {
        (self.kind, self.sealed, self.updatedBy, self.updatedAt) = (kind, sealed, updatedBy, updatedAt)
    }
}

/// Why a Gmail credentials operation changed nothing.
public enum GmailCredentialsRefusal: Error, Sendable, Equatable {
    /// Not credentials `gmail.send` can use; the fields say why.
    case invalid(ValidationFailure)
    /// The server has no SECRETS_KEY: they could not be stored sealed.
    case sealingUnavailable
    /// The workspace has none.
    case notFound
}

/// Where they live: one row per workspace; `put` and `delete` are audited in their
/// own statement (`credentials.updated` names the kind only).
public protocol GmailCredentialStoring: Sendable {
    func find(workspaceID: String) async throws -> StoredGmailCredentials?
    func put(workspaceID: String, kind: String, sealed: String, actor: AuditActor) async throws -> StoredGmailCredentials
    /// false if there were none.
    func delete(workspaceID: String, actor: AuditActor) async throws -> Bool
}

/// Setting, showing and removing the OAuth credentials `gmail.send` uses: the same
/// checks for `/v1/workspaces/{ws}/gmail-credentials` and `gate-api credentials`.
public struct ManageGmailCredentials: Sendable {
    let store: any GmailCredentialStoring
    /// SECRETS_KEY; without it nothing can be stored.
    let secrets: SecretBox?

    public init(store: any GmailCredentialStoring, secrets: SecretBox?) {
        self.store = store
        self.secrets = secrets
    }

    /// Validates `input` (`{"type":"refresh_token",…}` or `{"type":"access_token",…}`),
    /// seals it to the workspace and stores it in place of any earlier ones.
    public func put(workspaceID: String, input: JSONValue, actor: AuditActor) async throws -> StoredGmailCredentials {
        let credentials: GoogleCredentials
        switch GoogleCredentialsInput.parse(input) {
        case .success(let parsed): credentials = parsed
        case .failure(let failure): throw GmailCredentialsRefusal.invalid(failure)
        }
        guard let secrets else { throw GmailCredentialsRefusal.sealingUnavailable }
        let sealed = try credentials.sealed(with: secrets, workspaceID: workspaceID)
        return try await store.put(workspaceID: workspaceID, kind: credentials.kind, sealed: sealed, actor: actor)
    }

    /// Which kind the workspace has, set by whom when (never the secrets).
    public func show(workspaceID: String) async throws -> StoredGmailCredentials {
        guard let stored = try await store.find(workspaceID: workspaceID) else { throw GmailCredentialsRefusal.notFound }
        return stored
    }

    public func delete(workspaceID: String, actor: AuditActor) async throws {
        guard try await store.delete(workspaceID: workspaceID, actor: actor) else { throw GmailCredentialsRefusal.notFound }
    }
}
