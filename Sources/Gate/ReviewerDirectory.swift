import Actions
import Foundation
import GateCore

/// A person of a workspace's reviewer directory (issue 27): who reviews there and how
/// to reach them. `person` is the same id as a JWT's `sub` and a console sign-in's
/// subject, so a vote cast by any of them is that person's.
public struct DirectoryEntry: Sendable, Equatable {
    public var person: String
    public var email: String
    public var displayName: String?
    /// A Slack member id (`U…` or `W…`), for Slack notifications.
    public var slackUserID: String?
    /// Groups such as `finance`, `security`, sorted.
    public var groups: [String]
    /// Whether approvals are announced to them.
    public var notify: Bool
    /// Who stands in for them, and when (out of office); kept apart from the entry's
    /// other fields (`DelegateReviews`), so replacing an entry leaves it.
    public var delegation: Delegation?
    public var updatedAt: Date?

    public init(
        person: String, email: String, displayName: String? = nil, slackUserID: String? = nil, groups: [String] = [],
        notify: Bool = true, delegation: Delegation? = nil, updatedAt: Date? = nil
    ) {
        self.delegation = delegation
        self.person = person
        self.email = email
        self.displayName = displayName
        self.slackUserID = slackUserID
        self.groups = groups
        self.notify = notify
        self.updatedAt = updatedAt
    }

    /// As the API shows it and the audit log records it (before and after a change).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "person": .string(person), "email": .string(email), "display_name": displayName.map(JSONValue.string) ?? .null,
            "slack_user_id": slackUserID.map(JSONValue.string) ?? .null, "groups": .array(groups.map(JSONValue.string)),
            "notify": .bool(notify), "delegation": delegation?.json ?? .null,
        ]
        if let updatedAt { object["updated_at"] = .string(RFC3339.format(updatedAt)) }
        return .object(object)
    }
}

/// Where directories are kept: each change with its audit row (`reviewer.changed` with
/// the entry before and after, `reviewer.removed`) in one transaction.
public protocol ReviewerDirectoryStoring: Sendable {
    func put(workspaceID: String, entry: DirectoryEntry, actor: AuditActor) async throws -> DirectoryEntry
    /// False when the workspace has no such person.
    func remove(workspaceID: String, person: String, actor: AuditActor) async throws -> Bool
    func list(workspaceID: String) async throws -> [DirectoryEntry]
    func find(workspaceID: String, person: String) async throws -> DirectoryEntry?
    /// Sets (or, nil, ends) the person's delegation, audited (`reviewer.delegation_changed`
    /// with before and after) in one transaction.
    func delegate(workspaceID: String, person: String, delegation: Delegation?, actor: AuditActor) async throws
        -> DelegationChange
}

/// Keeping a workspace's reviewer directory (workspace admins, `policies:admin`): put a
/// person (every bad field reported at once, nothing written then), remove one, list.
public struct ManageReviewerDirectory: Sendable {
    public static let fields: Set<String> = ["email", "display_name", "slack_user_id", "groups", "notify"]
    public static let maxGroups = 20

    let store: any ReviewerDirectoryStoring

    public init(store: any ReviewerDirectoryStoring) {
        self.store = store
    }

    public func put(_ person: String, _ body: [String: JSONValue], in workspace: String, actor: AuditActor) async throws
        -> DirectoryEntry
    {
        try await store.put(workspaceID: workspace, entry: try Self.entry(person, from: body).get(), actor: actor)
    }

    public func remove(_ person: String, in workspace: String, actor: AuditActor) async throws -> Bool {
        try await store.remove(workspaceID: workspace, person: person, actor: actor)
    }

    public func list(in workspace: String) async throws -> [DirectoryEntry] {
        try await store.list(workspaceID: workspace)
    }

    public func find(_ person: String, in workspace: String) async throws -> DirectoryEntry? {
        try await store.find(workspaceID: workspace, person: person)
    }

    /// A person id as identity providers write subjects — an email address, a UUID,
    /// `auth0|5f…`, Okta's `00u…`: 1–255 of letters, digits and `. _ @ + | : -`, so it
    /// travels in a URL path as itself.
    public static func isPersonID(_ text: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+|:-".utf8)
        return (1...255).contains(text.utf8.count) && text.utf8.allSatisfy(allowed.contains)
    }

    /// The entry `body` describes for `person`, or every field that is wrong.
    public static func entry(_ person: String, from body: [String: JSONValue]) -> Result<DirectoryEntry, ValidationFailure> {
        var errors = body.keys.sorted().filter { !fields.contains($0) }.map { FieldError(field: $0, message: "is not a known field") }
        if !isPersonID(person) {
            errors.append(FieldError(field: "person", message: "must be 1 to 255 of letters, digits and . _ @ + | : -"))
        }
        var email = ""
        switch body["email"] {
        case .string(let text)? where EmailAddress(text)?.displayName == nil && EmailAddress(text) != nil:
            email = EmailAddress(text)!.address
        case nil, .null?:
            errors.append(FieldError(field: "email", message: "is required"))
        default:
            errors.append(FieldError(field: "email", message: "must be an address like rita@example.com"))
        }
        var displayName: String?
        switch body["display_name"] {
        case nil, .null?: break
        case .string(let text)? where (1...200).contains(text.count) && !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }):
            displayName = text
        default:
            errors.append(FieldError(field: "display_name", message: "must be 1 to 200 characters on one line"))
        }
        var slack: String?
        switch body["slack_user_id"] {
        case nil, .null?: break
        case .string(let text)? where isSlackUserID(text):
            slack = text
        default:
            errors.append(FieldError(field: "slack_user_id", message: "must be a Slack member id like U024BE7LH"))
        }
        var groups: [String] = []
        switch body["groups"] {
        case nil, .null?: break
        case .array(let items)? where items.count <= maxGroups:
            for (index, item) in items.enumerated() {
                guard case .string(let name) = item, isGroupName(name) else {
                    errors.append(FieldError(field: "groups[\(index)]", message: "must be 1 to 63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"))
                    continue
                }
                if groups.contains(name) {
                    errors.append(FieldError(field: "groups[\(index)]", message: "repeats \(name)"))
                } else {
                    groups.append(name)
                }
            }
        default:
            errors.append(FieldError(field: "groups", message: "must be an array of at most \(maxGroups) group names"))
        }
        var notify = true
        switch body["notify"] {
        case nil, .null?: break
        case .bool(let value)?: notify = value
        default: errors.append(FieldError(field: "notify", message: "must be true or false"))
        }
        guard errors.isEmpty else { return .failure(ValidationFailure(errors)) }
        return .success(
            DirectoryEntry(person: person, email: email, displayName: displayName, slackUserID: slack, groups: groups.sorted(), notify: notify))
    }

    static func isSlackUserID(_ text: String) -> Bool {
        let upper = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        return (3...21).contains(text.utf8.count) && (text.first == "U" || text.first == "W") && text.utf8.allSatisfy(upper.contains)
    }

    static func isGroupName(_ text: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-".utf8)
        let first = text.utf8.first
        return (1...63).contains(text.utf8.count) && text.utf8.allSatisfy(allowed.contains)
            && first.map { $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: "-") } == true
    }
}
