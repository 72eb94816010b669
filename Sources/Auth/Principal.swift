/// Who is calling (SPEC §2): an API key bound to one workspace, or a person from a
/// JWT with scopes per workspace.
public struct Principal: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case apiKey = "api_key"
        case user
    }

    public let kind: Kind
    /// The key id, or the JWT `sub`.
    public let id: String
    /// Workspace id → the scopes held there. No entry means no membership.
    public let workspaces: [String: Set<Scope>]
    /// The person accountable: the JWT subject, or the person a key acts for.
    public let actsFor: String?
    /// A key presented with its previous secret, inside a rotation's overlap: good for
    /// the key's work until the overlap ends, never for administering keys (a stolen
    /// old secret could otherwise mint or rotate itself a secret that outlives it).
    public let presentedPreviousSecret: Bool

    public init(
        kind: Kind, id: String, workspaces: [String: Set<Scope>], actsFor: String? = nil, presentedPreviousSecret: Bool = false
    ) {
        self.kind = kind
        self.id = id
        self.workspaces = workspaces
        self.actsFor = actsFor ?? (kind == .user ? id : nil)
        self.presentedPreviousSecret = presentedPreviousSecret
    }

    /// How the principal is named in `created_by`, votes and submissions: "user:<sub>" or "api_key:<id>".
    public var qualifiedID: String { "\(kind.rawValue):\(id)" }

    public func isMember(of workspace: String) -> Bool { workspaces[workspace] != nil }

    public func has(_ scope: Scope, in workspace: String) -> Bool {
        workspaces[workspace]?.contains(scope) ?? false
    }
}
