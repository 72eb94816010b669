/// Who creates, rotates or revokes an API key, as the rules of key administration see them.
public enum KeyAdministrator: Sendable, Equatable {
    /// The operator at the shell (`gate-api keys …`, or seeding code), named as in
    /// `created_by` ("cli"). Trusted like the database itself: may give a key any person
    /// and manage any key, and every change is audited.
    case `operator`(String)
    /// A principal through the API, bound by what it holds itself.
    case principal(Principal)

    /// As recorded in `created_by` and in a key's creator chain.
    public var qualifiedID: String {
        switch self {
        case .operator(let name): return name
        case .principal(let principal): return principal.qualifiedID
        }
    }

    /// The key this administrator authenticated with, whose own creator chain it carries on.
    public var keyID: String? {
        guard case .principal(let principal) = self, principal.kind == .apiKey else { return nil }
        return principal.id
    }
}

/// Why a key administration was refused; each is audited (`key.create_refused`,
/// `key.rotate_refused`, `key.revoke_refused`) with `reason` as below.
public enum KeyRefusal: Error, Sendable, Equatable {
    /// `approvals:decide` asked for a key (422): votes belong to people (`Scope.grantableToKeys`).
    case scopeNotForKeys
    /// The key holds, or would hold, scopes the actor does not hold in the workspace (403).
    case beyondOwnScopes([Scope])
    /// `acts_for` names someone other than the creator's person (422): through the API a
    /// key always acts for the person behind whoever creates it.
    case anotherPerson(requested: String, own: String?)
    /// The actor presented a key's previous secret (rotation overlap) (403).
    case previousSecret

    public var reason: String {
        switch self {
        case .scopeNotForKeys: return "scope_not_for_keys"
        case .beyondOwnScopes: return "beyond_own_scopes"
        case .anotherPerson: return "acts_for_another_person"
        case .previousSecret: return "previous_secret"
        }
    }
}

/// The rules of key administration, free of storage. Managing a key can never give the
/// actor more than it holds: a key is created with, and can be rotated (which hands
/// over its secret) or revoked only by someone holding, every scope it has; the person
/// behind a key is its creator's person, never a claim of the caller.
public enum KeyAdministrationRules {
    /// A new key's person, or why it may not be created.
    public static func create(
        scopes: Set<Scope>, actsFor requested: String?, workspace: String, by administrator: KeyAdministrator
    ) -> Result<String?, KeyRefusal> {
        if scopes.contains(.approvalsDecide) { return .failure(.scopeNotForKeys) }
        switch administrator {
        case .operator:
            return .success(requested)
        case .principal(let principal):
            if let refusal = bounded(scopes, by: principal, in: workspace) { return .failure(refusal) }
            if let requested, requested != principal.actsFor {
                return .failure(.anotherPerson(requested: requested, own: principal.actsFor))
            }
            return .success(principal.actsFor)
        }
    }

    /// Whether `administrator` may rotate or revoke a key holding `scopes`.
    /// `approvals:decide` on a key from before it was refused to keys grants nothing
    /// (such a key cannot vote), so it does not count.
    public static func manage(keyScopes scopes: Set<Scope>, workspace: String, by administrator: KeyAdministrator)
        -> KeyRefusal?
    {
        guard case .principal(let principal) = administrator else { return nil }
        return bounded(scopes.intersection(Scope.grantableToKeys), by: principal, in: workspace)
    }

    private static func bounded(_ scopes: Set<Scope>, by principal: Principal, in workspace: String) -> KeyRefusal? {
        if principal.presentedPreviousSecret { return .previousSecret }
        let beyond = scopes.subtracting(principal.workspaces[workspace] ?? [])
        return beyond.isEmpty ? nil : .beyondOwnScopes(beyond.sorted { $0.rawValue < $1.rawValue })
    }
}
