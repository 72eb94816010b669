import Actions
import Auth
import Foundation
import GateCore

/// Creating, rotating and revoking API keys (SPEC §3), for the REST API and the CLI
/// alike: the request's fields are checked, `KeyAdministrationRules` decide, and every
/// change and refusal is audited. Through the API a key never holds more than its
/// creator and always acts for its creator's person; the operator at the shell
/// (`KeyAdministrator.operator`) may do anything, audited.
public struct AdministerKeys: Sendable {
    let store: any KeyAdministrationStore
    /// How long a rotated key's previous secret keeps working when the caller does not say.
    let rotationOverlapSeconds: Int

    public init(store: any KeyAdministrationStore, rotationOverlapSeconds: Int) {
        self.store = store
        self.rotationOverlapSeconds = rotationOverlapSeconds
    }

    /// The longest rotation overlap: 30 days.
    public static let maxOverlapSeconds = 2_592_000

    /// A new key and its secret (shown once). Throws `ValidationFailure` for bad fields
    /// and `KeyAdministrationError` otherwise.
    public func create(
        workspace: String, name: String, scopes: [String], expiresAt: Date?, actsFor: String?, by administrator: KeyAdministrator,
        actor: AuditActor, now: Date = Date()
    ) async throws -> (APIKeyRecord, APIKeyToken) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(name.count), !name.containsControlCharacters else {
            throw Self.invalid("name", "must be 1 to 200 characters without control characters")
        }
        guard !scopes.isEmpty else { throw Self.invalid("scopes", "must name at least one scope") }
        let parsed: Set<Scope>
        switch Scope.parse(scopes) {
        case .success(let scopes): parsed = scopes
        case .failure(let unknown): throw Self.invalid("scopes", "unknown scope \"\(unknown.name)\"")
        }
        if let expiresAt, expiresAt <= now { throw Self.invalid("expires_at", "must be in the future") }
        if let actsFor, !(1...255).contains(actsFor.count) || actsFor.containsControlCharacters {
            throw Self.invalid("acts_for", "must be 1 to 255 characters without control characters")
        }
        switch KeyAdministrationRules.create(scopes: parsed, actsFor: actsFor, workspace: workspace, by: administrator) {
        case .failure(let refusal):
            try await store.record(Self.refusalEvent(refusal, action: "key.create_refused", workspace: workspace, keyID: nil, actor: actor))
            throw KeyAdministrationError.refused(refusal)
        case .success(let person):
            let secret = APIKeyToken.generate()
            let key = NewAPIKey(
                workspaceID: workspace, name: name, scopes: parsed, expiresAt: expiresAt, actsFor: person, createdBy: administrator,
                secret: secret)
            return (try await store.insert(key, actor: actor), secret)
        }
    }

    /// Revokes the key at once, if `administrator` holds every scope it has.
    public func revoke(workspace: String, id: String, by administrator: KeyAdministrator, actor: AuditActor) async throws
        -> APIKeyRecord
    {
        try await store.change(.revoke, workspaceID: workspace, id: id, actor: actor) { key in
            KeyAdministrationRules.manage(keyScopes: key.scopes, workspace: workspace, by: administrator)
        }
    }

    /// A new secret for the key, if `administrator` holds every scope it has; the
    /// previous one works for `overlapSeconds` more (default: the server's setting).
    public func rotate(
        workspace: String, id: String, overlapSeconds: Int?, by administrator: KeyAdministrator, actor: AuditActor
    ) async throws -> (APIKeyRecord, APIKeyToken) {
        let overlap = overlapSeconds ?? rotationOverlapSeconds
        guard (0...Self.maxOverlapSeconds).contains(overlap) else {
            throw Self.invalid("overlap_seconds", "must be 0 to \(Self.maxOverlapSeconds)")
        }
        let secret = APIKeyToken(rotating: id)
        let record = try await store.change(
            .rotate(secret: secret, overlapSeconds: overlap, by: administrator), workspaceID: workspace, id: id, actor: actor
        ) { key in
            KeyAdministrationRules.manage(keyScopes: key.scopes, workspace: workspace, by: administrator)
        }
        return (record, secret)
    }

    static func invalid(_ field: String, _ message: String) -> ValidationFailure {
        ValidationFailure([FieldError(field: field, message: message)])
    }

    /// The audit row of a refused administration: the reason, and what was asked beyond the rules.
    public static func refusalEvent(_ refusal: KeyRefusal, action: String, workspace: String, keyID: String?, actor: AuditActor)
        -> AuditEvent
    {
        var details: [String: JSONValue] = ["reason": .string(refusal.reason)]
        switch refusal {
        case .beyondOwnScopes(let scopes): details["scopes"] = .array(scopes.map { .string($0.rawValue) })
        case .anotherPerson(let requested, _): details["acts_for"] = .string(requested)
        case .scopeNotForKeys, .previousSecret: break
        }
        return AuditEvent(
            workspaceID: workspace, actor: actor, action: action, targetType: "api_key", targetID: keyID, outcome: .denied,
            details: details)
    }
}
