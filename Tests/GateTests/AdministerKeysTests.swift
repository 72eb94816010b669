import Actions
import Auth
import Foundation
import Gate
import Synchronization
import Testing

/// Key administration alone: what reaches the store, and what is refused (and audited) first.
@Suite struct AdministerKeysTests {
    final class Keys: KeyAdministrationStore {
        struct State {
            var inserted: [NewAPIKey] = []
            var audited: [AuditEvent] = []
            var changes: [String] = []
        }
        let state = Mutex(State())
        let existing = APIKeyRecord(
            id: "k_admin", workspaceID: "acme", name: "admin", scopes: [.keysAdmin, .jobsWrite], secretHash: [], createdBy: "cli",
            createdAt: Date())

        func insert(_ key: NewAPIKey, actor: AuditActor) async throws -> APIKeyRecord {
            state.withLock { $0.inserted.append(key) }
            return APIKeyRecord(
                id: key.secret.id, workspaceID: key.workspaceID, name: key.name, scopes: key.scopes, secretHash: key.secret.hash,
                createdBy: key.createdBy.qualifiedID, actsFor: key.actsFor, createdAt: Date(), expiresAt: key.expiresAt)
        }

        func change(
            _ change: KeyChange, workspaceID: String, id: String, actor: AuditActor,
            allowed: @escaping @Sendable (APIKeyRecord) -> KeyRefusal?
        ) async throws -> APIKeyRecord {
            guard id == existing.id, workspaceID == existing.workspaceID else { throw KeyAdministrationError.notFound }
            if let refusal = allowed(existing) {
                state.withLock { $0.changes.append(change.auditAction + "_refused") }
                throw KeyAdministrationError.refused(refusal)
            }
            state.withLock { $0.changes.append(change.auditAction) }
            return existing
        }

        func record(_ event: AuditEvent) async throws { state.withLock { $0.audited.append(event) } }
    }

    let keys = Keys()
    var administer: AdministerKeys { AdministerKeys(store: keys, rotationOverlapSeconds: 60) }
    let actor = AuditActor(kind: .apiKey, id: "k1")
    let writer = Principal(kind: .apiKey, id: "k1", workspaces: ["acme": [.keysAdmin, .jobsWrite]], actsFor: "ann")

    @Test func aPrincipalsKeyActsForItsPersonWithinItsScopes() async throws {
        let (record, secret) = try await administer.create(
            workspace: "acme", name: " agent ", scopes: ["jobs:write"], expiresAt: nil, actsFor: nil, by: .principal(writer),
            actor: actor)
        #expect(record.actsFor == "ann" && record.name == "agent" && record.scopes == [.jobsWrite])
        #expect(secret.hash == keys.state.withLock { $0.inserted.first?.secret.hash })
    }

    @Test func beyondItsScopesIsRefusedAuditedAndNotStored() async throws {
        await #expect(throws: KeyAdministrationError.refused(.beyondOwnScopes([.jobsRead]))) {
            try await administer.create(
                workspace: "acme", name: "more", scopes: ["jobs:read"], expiresAt: nil, actsFor: nil, by: .principal(writer),
                actor: actor)
        }
        #expect(keys.state.withLock { $0.inserted.isEmpty })
        #expect(keys.state.withLock { $0.audited.map(\.action) } == ["key.create_refused"])
    }

    @Test func theOperatorMayNameAnyPersonButNoKeyVotes() async throws {
        let (record, _) = try await administer.create(
            workspace: "acme", name: "bot", scopes: ["jobs:write"], expiresAt: nil, actsFor: "bob", by: .operator("cli"), actor: actor)
        #expect(record.actsFor == "bob" && record.createdBy == "cli")
        await #expect(throws: KeyAdministrationError.refused(.scopeNotForKeys)) {
            try await administer.create(
                workspace: "acme", name: "voter", scopes: ["approvals:decide"], expiresAt: nil, actsFor: nil, by: .operator("cli"),
                actor: actor)
        }
    }

    @Test(arguments: [
        ("", ["jobs:write"], "name"), ("x", [], "scopes"), ("x", ["jobs:fly"], "scopes"),
    ] as [(String, [String], String)])
    func invalidFieldsReachNothing(name: String, scopes: [String], field: String) async throws {
        do {
            _ = try await administer.create(
                workspace: "acme", name: name, scopes: scopes, expiresAt: nil, actsFor: nil, by: .operator("cli"), actor: actor)
            Issue.record("created")
        } catch let invalid as ValidationFailure {
            #expect(invalid.errors.map(\.field) == [field])
        }
        #expect(keys.state.withLock { $0.inserted.isEmpty && $0.audited.isEmpty })
    }

    @Test func rotationAndRevocationNeedEveryScopeOfTheKey() async throws {
        let reader = Principal(kind: .user, id: "rita", workspaces: ["acme": [.keysAdmin]])
        await #expect(throws: KeyAdministrationError.refused(.beyondOwnScopes([.jobsWrite]))) {
            try await administer.rotate(workspace: "acme", id: "k_admin", overlapSeconds: nil, by: .principal(reader), actor: actor)
        }
        _ = try await administer.revoke(workspace: "acme", id: "k_admin", by: .principal(writer), actor: actor)
        #expect(keys.state.withLock { $0.changes } == ["key.rotate_refused", "key.revoke"])
        await #expect(throws: ValidationFailure.self) {
            try await administer.rotate(workspace: "acme", id: "k_admin", overlapSeconds: -1, by: .operator("cli"), actor: actor)
        }
    }
}
