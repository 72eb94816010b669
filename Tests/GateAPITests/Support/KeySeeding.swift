import Auth
import Foundation
import Gate
import Persistence

/// Keys made as the operator would make them (`gate-api keys create`): through the same
/// use case as the API and the CLI, for tests that need a key before any request.
extension APIKeyStore {
    func create(
        workspaceID: String, name: String, scopes: Set<Scope>, expiresAt: Date?, createdBy: String, actsFor: String?,
        actor: AuditActor
    ) async throws -> (APIKeyRecord, APIKeyToken) {
        try await AdministerKeys(store: self, rotationOverlapSeconds: 0).create(
            workspace: workspaceID, name: name, scopes: scopes.map(\.rawValue), expiresAt: expiresAt, actsFor: actsFor,
            by: .operator(createdBy), actor: actor)
    }

    func revoke(workspaceID: String, id: String, by administrator: KeyAdministrator, actor: AuditActor) async throws -> APIKeyRecord {
        try await AdministerKeys(store: self, rotationOverlapSeconds: 0).revoke(
            workspace: workspaceID, id: id, by: administrator, actor: actor)
    }
}
