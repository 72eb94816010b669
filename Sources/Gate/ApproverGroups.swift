import Actions
import Approvals
import GateCore

/// A policy's `approvers` (issue 27): "2 of `finance`", "1 of `finance` and 1 of
/// `security`" — as the API reads and shows them and as they are stored.
public enum ApproverRulesJSON {
    public static let maxRules = 5

    public static func json(_ rules: [ApproverRule]) -> JSONValue {
        .array(rules.map { ["group": .string($0.group), "count": .integer($0.count)] })
    }

    /// The stored text (nil or `[]`: no rules), read as written — not validated again,
    /// so a policy's stand-in for unreadable rules (`PolicyStore`) travels to its
    /// approvals as the rule nobody meets that it is.
    public static func decode(_ text: String?) throws -> [ApproverRule] {
        guard let text else { return [] }
        guard case .array(let items) = try JSONValue(parsing: text) else { throw UnreadableApproverRules() }
        return try items.map { item in
            guard case .object(let rule) = item, case .string(let group)? = rule["group"], case .integer(let count)? = rule["count"]
            else { throw UnreadableApproverRules() }
            return ApproverRule(group: group, count: count)
        }
    }

    /// Up to five rules, each a group name the directory accepts and a count of 1–10,
    /// no group twice; every bad field named (`approvers[0].count`).
    public static func parse(_ raw: JSONValue, field: String = "approvers") -> Result<[ApproverRule], ValidationFailure> {
        guard case .array(let items) = raw, items.count <= maxRules else {
            return .failure(
                ValidationFailure([FieldError(field: field, message: "must be an array of at most \(maxRules) {\"group\", \"count\"} rules")]))
        }
        var errors: [FieldError] = []
        var rules: [ApproverRule] = []
        for (index, item) in items.enumerated() {
            let at = "\(field)[\(index)]"
            guard case .object(let rule) = item else {
                errors.append(FieldError(field: at, message: "must be an object {\"group\", \"count\"}"))
                continue
            }
            errors += rule.keys.sorted().filter { $0 != "group" && $0 != "count" }.map {
                FieldError(field: "\(at).\($0)", message: "is not a known field")
            }
            var group: String?
            if case .string(let name)? = rule["group"], ManageReviewerDirectory.isGroupName(name) {
                if rules.contains(where: { $0.group == name }) {
                    errors.append(FieldError(field: "\(at).group", message: "repeats \(name); give one rule per group"))
                } else {
                    group = name
                }
            } else {
                errors.append(FieldError(field: "\(at).group", message: "must be a group name (1 to 63 of a-z, 0-9, '.', '_', '-')"))
            }
            var count: Int?
            if case .integer(let n)? = rule["count"], (1...10).contains(n) {
                count = n
            } else {
                errors.append(FieldError(field: "\(at).count", message: "must be a whole number from 1 to 10"))
            }
            if let group, let count { rules.append(ApproverRule(group: group, count: count)) }
        }
        if errors.isEmpty, QuorumMatching.ruleSlots(rules) > 10 {
            errors.append(FieldError(field: field, message: "asks for more than 10 approvals in all"))
        }
        return errors.isEmpty ? .success(rules) : .failure(ValidationFailure(errors))
    }

    /// "2 of finance and 1 of security".
    public static func describe(_ rules: [ApproverRule]) -> String {
        rules.map { "\($0.count) of \($0.group)" }.joined(separator: " and ")
    }
}

public struct UnreadableApproverRules: Error {}

/// A vote's standings as stored on it (`approval_votes.standings`).
public enum StandingsJSON {
    public static func json(_ standings: [Standing]) -> JSONValue {
        .array(
            standings.map {
                ["person": .string($0.person), "groups": .array($0.groups.sorted().map(JSONValue.string)), "delegated": .bool($0.delegated)]
            })
    }

    public static func encode(_ standings: [Standing]?) -> String? {
        standings.map { json($0).jsonText }
    }

    /// Nil for a vote without standings, or (never written so) one unreadable: such a
    /// vote counts as its person's, in no group.
    public static func decode(_ text: String?) -> [Standing]? {
        guard let text, case .array(let items)? = try? JSONValue(parsing: text) else { return nil }
        var standings: [Standing] = []
        for item in items {
            guard case .object(let object) = item, case .string(let person)? = object["person"] else { return nil }
            var groups: Set<String> = []
            if case .array(let names)? = object["groups"] {
                for case .string(let name) in names { groups.insert(name) }
            }
            var delegated = false
            if case .bool(let flag)? = object["delegated"] { delegated = flag }
            standings.append(Standing(person: person, groups: groups, delegated: delegated))
        }
        return standings
    }
}
