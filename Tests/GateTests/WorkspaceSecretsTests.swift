import Actions
import Foundation
import Gate
import GateCore
import Synchronization
import Testing

/// Webhook secrets and Gmail credentials as every front door sets them: checked,
/// sealed to the workspace, never stored or recorded in the clear.
@Suite struct WorkspaceSecretsTests {
    static let box = try! SecretBox(base64Key: Data(repeating: 7, count: 32).base64EncodedString())
    let actor = AuditActor(kind: .user, id: "ada")

    final class Secrets: WebhookSecretStoring {
        let rotated = Mutex<[StoredWebhookSecret]>([])
        func rotate(workspaceID: String, id: String, sealed: String, overlapSeconds: Int, createdBy: String, actor: AuditActor)
            async throws -> StoredWebhookSecret
        {
            let stored = StoredWebhookSecret(
                id: id, workspaceID: workspaceID, sealed: sealed, createdBy: createdBy, createdAt: Date(), expiresAt: nil)
            rotated.withLock { $0.append(stored) }
            return stored
        }
        func list(workspaceID: String) async throws -> [StoredWebhookSecret] { rotated.withLock { $0 } }
        func revoke(workspaceID: String, id: String, actor: AuditActor) async throws { throw WebhookSecretRefusal.notFound }
    }

    final class Credentials: GmailCredentialStoring {
        let saved = Mutex<StoredGmailCredentials?>(nil)
        func find(workspaceID: String) async throws -> StoredGmailCredentials? { saved.withLock { $0 } }
        func put(workspaceID: String, kind: String, sealed: String, actor: AuditActor) async throws -> StoredGmailCredentials {
            let stored = StoredGmailCredentials(kind: kind, sealed: sealed, updatedBy: actor.id ?? "", updatedAt: Date())
            saved.withLock { $0 = stored }
            return stored
        }
        func delete(workspaceID: String, actor: AuditActor) async throws -> Bool { saved.withLock { $0 } != nil }
    }

    @Test func aRotatedSecretIsShownOnceAndStoredOnlySealedToItsWorkspace() async throws {
        let store = Secrets()
        let (stored, secret) = try await ManageWebhookSecrets(store: store, secrets: Self.box)
            .rotate(workspaceID: "acme", overlapSeconds: nil, createdBy: "user:ada", actor: actor)
        #expect(secret.hasPrefix("whsec_") && Data(base64Encoded: String(secret.dropFirst(6)))?.count == 32)
        #expect(stored.id.hasPrefix("whs_") && !stored.sealed.contains(secret))
        #expect(try Self.box.openString(stored.sealed, workspaceID: "acme") == secret)
        #expect(throws: SecretBoxError.self) { try Self.box.openString(stored.sealed, workspaceID: "other") }
    }

    @Test(arguments: [-1, ManageWebhookSecrets.maximumOverlapSeconds + 1])
    func anOverlapOutOfRangeChangesNothing(overlap: Int) async throws {
        let store = Secrets()
        await #expect(throws: WebhookSecretRefusal.overlapOutOfRange) {
            try await ManageWebhookSecrets(store: store, secrets: Self.box)
                .rotate(workspaceID: "acme", overlapSeconds: overlap, createdBy: "user:ada", actor: actor)
        }
        #expect(store.rotated.withLock { $0.isEmpty })
    }

    @Test func withoutSecretsKeyNothingIsStored() async throws {
        let secrets = Secrets(), credentials = Credentials()
        await #expect(throws: WebhookSecretRefusal.sealingUnavailable) {
            try await ManageWebhookSecrets(store: secrets, secrets: nil)
                .rotate(workspaceID: "acme", overlapSeconds: 0, createdBy: "user:ada", actor: actor)
        }
        await #expect(throws: GmailCredentialsRefusal.sealingUnavailable) {
            try await ManageGmailCredentials(store: credentials, secrets: nil)
                .put(workspaceID: "acme", input: ["type": "access_token", "access_token": "ya29.x"], actor: actor)
        }
        #expect(secrets.rotated.withLock { $0.isEmpty } && credentials.saved.withLock { $0 } == nil)
    }

    @Test func credentialsAreValidatedBeforeAnythingElseAndStoredSealed() async throws {
        let store = Credentials()
        let manage = ManageGmailCredentials(store: store, secrets: Self.box)
        // Invalid input is reported as such even on a server that could not store it.
        await #expect(throws: GmailCredentialsRefusal.self) {
            try await ManageGmailCredentials(store: store, secrets: nil).put(workspaceID: "acme", input: ["type": "password"], actor: actor)
        }
        do {
            _ = try await ManageGmailCredentials(store: store, secrets: nil).put(workspaceID: "acme", input: .array([]), actor: actor)
            Issue.record("a non-object was accepted")
        } catch GmailCredentialsRefusal.invalid(let failure) {
            #expect(failure.errors.map(\.field) == ["body"])
        }
        await #expect(throws: GmailCredentialsRefusal.notFound) { try await manage.show(workspaceID: "acme") }
        await #expect(throws: GmailCredentialsRefusal.notFound) { try await manage.delete(workspaceID: "acme", actor: actor) }

        let saved = try await manage.put(
            workspaceID: "acme",
            input: ["type": "refresh_token", "refresh_token": "1//rt", "client_id": "cid", "client_secret": "cs"], actor: actor)
        #expect(saved.kind == "refresh_token" && !saved.sealed.contains("1//rt") && !saved.sealed.contains("cs"))
        #expect(String(decoding: try Self.box.open(saved.sealed, workspaceID: "acme"), as: UTF8.self).contains("1//rt"))
        #expect(try await manage.show(workspaceID: "acme") == saved)
        try await manage.delete(workspaceID: "acme", actor: actor)
    }
}
