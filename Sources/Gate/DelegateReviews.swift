import Actions
import Auth
import Foundation
import GateCore

/// A reviewer's stand-in for a period (issue 27 "Delegation"): from `from` until
/// `until`, the delegate is told of what the reviewer would be told, and the delegate's
/// vote may count for the reviewer's groups — never on a job the reviewer (or the
/// delegate) submitted.
public struct Delegation: Sendable, Equatable {
    public var delegate: String
    public var from: Date
    public var until: Date

    public init(delegate: String, from: Date, until: Date) {
        self.delegate = delegate
        self.from = from
        self.until = until
    }

    public func isActive(at now: Date) -> Bool { from <= now && now < until }

    public var json: JSONValue {
        ["delegate": .string(delegate), "from": .string(RFC3339.format(from)), "until": .string(RFC3339.format(until))]
    }
}

public enum DelegationChange: Sendable, Equatable {
    case changed(DirectoryEntry)
    /// The workspace's directory has no such reviewer.
    case noReviewer
    /// The delegate is not in the directory (they could not be told of anything).
    case unknownDelegate
}

/// Naming or ending a delegation: the reviewer themselves (signed in as that person,
/// with `approvals:decide`) or a workspace admin.
public struct DelegateReviews: Sendable {
    /// Who asks: the person they are (JWT `sub` or console subject), and whether they
    /// administer the workspace's directory.
    public struct Requester: Sendable {
        public var person: String?
        public var isAdmin: Bool

        public init(person: String?, isAdmin: Bool) {
            self.person = person
            self.isAdmin = isAdmin
        }

        /// A caller of the API or the console: a person's token with `approvals:decide`
        /// speaks for that person; `policies:admin` for anyone of the workspace.
        public init(_ principal: Principal, in workspace: String) {
            self.init(
                person: principal.kind == .user && principal.has(.approvalsDecide, in: workspace) ? principal.id : nil,
                isAdmin: principal.has(.policiesAdmin, in: workspace))
        }
    }

    public enum Outcome: Sendable, Equatable {
        case changed(DirectoryEntry)
        case noReviewer
        /// The delegate is not in the directory (yet): add them first.
        case unknownDelegate
        /// Neither the reviewer nor an admin.
        case notAllowed
    }

    /// At most a year: a delegation is an absence, not a standing arrangement.
    public static let longest: TimeInterval = 366 * 86400
    public static let fields: Set<String> = ["delegate", "from", "until"]

    let store: any ReviewerDirectoryStoring

    public init(store: any ReviewerDirectoryStoring) {
        self.store = store
    }

    /// Sets the delegation `body` describes (`{"delegate", "from"?, "until"}`), or ends
    /// it (`body` nil). Throws `ValidationFailure` naming every bad field (nothing written).
    /// A requester who may not is refused and audited (`reviewer.delegation_refused`).
    public func callAsFunction(
        _ person: String, _ body: [String: JSONValue]?, in workspace: String, by requester: Requester, actor: AuditActor,
        audit: any AuditTrail, now: Date = Date()
    ) async throws -> Outcome {
        guard requester.isAdmin || requester.person == person else {
            // Another reviewer's delegation is theirs to name: not found if not listed.
            guard try await store.find(workspaceID: workspace, person: person) != nil else { return .noReviewer }
            try await audit.record(
                AuditEvent(
                    workspaceID: workspace, actor: actor, action: "reviewer.delegation_refused", targetType: "reviewer",
                    targetID: person, outcome: .denied, details: ["reason": "not_the_reviewer"]))
            return .notAllowed
        }
        let delegation = try body.map { try Self.delegation(for: person, from: $0, now: now).get() }
        switch try await store.delegate(workspaceID: workspace, person: person, delegation: delegation, actor: actor) {
        case .changed(let entry): return .changed(entry)
        case .noReviewer: return .noReviewer
        case .unknownDelegate: return .unknownDelegate
        }
    }

    /// The delegation `body` describes, or every field that is wrong.
    public static func delegation(for person: String, from body: [String: JSONValue], now: Date) -> Result<Delegation, ValidationFailure> {
        var errors = body.keys.sorted().filter { !fields.contains($0) }.map { FieldError(field: $0, message: "is not a known field") }
        var delegate = ""
        switch body["delegate"] {
        case .string(let text)? where ManageReviewerDirectory.isPersonID(text) && text != person: delegate = text
        case .string(let text)? where text == person: errors.append(FieldError(field: "delegate", message: "must be someone else"))
        case nil, .null?: errors.append(FieldError(field: "delegate", message: "is required"))
        default: errors.append(FieldError(field: "delegate", message: "must be a person id (1 to 255 of letters, digits and . _ @ + | : -)"))
        }
        func date(_ field: String) -> Date? {
            switch body[field] {
            case nil, .null?: return nil
            case .string(let text)?:
                if let parsed = RFC3339Text.date(text) { return parsed }
                fallthrough
            default:
                errors.append(FieldError(field: field, message: "must be an RFC 3339 time like 2026-12-24T00:00:00Z"))
                return nil
            }
        }
        let from = date("from") ?? now
        let until = date("until")
        if body["until"] == nil || body["until"] == .null { errors.append(FieldError(field: "until", message: "is required")) }
        if let until {
            if until <= max(from, now) {
                errors.append(FieldError(field: "until", message: "must be later than now and than from"))
            } else if until.timeIntervalSince(from) > longest {
                errors.append(FieldError(field: "until", message: "must be at most 366 days after from"))
            }
        }
        guard errors.isEmpty, let until else { return .failure(ValidationFailure(errors)) }
        return .success(Delegation(delegate: delegate, from: from, until: until))
    }
}
