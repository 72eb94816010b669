/// The permissions of SPEC §2. A principal holds a set of these per workspace;
/// each route requires one.
public enum Scope: String, Sendable, CaseIterable, Codable {
    case jobsWrite = "jobs:write"
    case jobsRead = "jobs:read"
    case approvalsRead = "approvals:read"
    case approvalsDecide = "approvals:decide"
    case policiesAdmin = "policies:admin"
    case keysAdmin = "keys:admin"
    case auditRead = "audit:read"
    case auditExport = "audit:export"

    /// The scopes an API key may hold: all but `approvals:decide`. A vote is a person's
    /// vote, and the person is established by the identity provider (a JWT's `sub`),
    /// never by a key, whose `acts_for` is only as true as whoever created it.
    public static let grantableToKeys: Set<Scope> = Set(allCases).subtracting([.approvalsDecide])

    /// Parses scope names, failing on the first unknown one so a typo is never silently dropped.
    public static func parse<S: Sequence<String>>(_ names: S) -> Result<Set<Scope>, UnknownScope> {
        var scopes = Set<Scope>()
        for name in names {
            guard let scope = Scope(rawValue: name) else { return .failure(UnknownScope(name: name)) }
            scopes.insert(scope)
        }
        return .success(scopes)
    }
}

public struct UnknownScope: Error, Equatable, Sendable {
    public let name: String
}
