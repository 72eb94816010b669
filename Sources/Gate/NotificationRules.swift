import Actions
import Foundation
import GateCore

/// A policy's `notifications` (issue 27): who hears of its approvals, when they are
/// reminded, who is told when nobody decides, and whether a link in a message may
/// decide. `{}` announces every approval to every reviewer of the directory who takes
/// notifications, by every channel they can be reached on, with decision links.
public struct NotificationRules: Sendable, Equatable {
    public enum Channel: String, Sendable, CaseIterable {
        case email, slack
    }

    /// Groups whose members are told; empty: every reviewer.
    public var groups: [String]
    public var channels: [Channel]
    /// Fractions of the approval's lifetime after which those who have not voted are
    /// reminded (e.g. 0.5 and 0.9), ascending.
    public var remindAt: [Double]
    /// A backup group told when the approval is still pending after `escalateAfterSeconds`.
    public var escalateTo: String?
    public var escalateAfterSeconds: Int?
    /// False: messages carry no decision links, only a link to the console (a risky
    /// action's step-up: deciding takes a console sign-in).
    public var decisionLinks: Bool

    public init(
        groups: [String] = [], channels: [Channel] = Channel.allCases, remindAt: [Double] = [], escalateTo: String? = nil,
        escalateAfterSeconds: Int? = nil, decisionLinks: Bool = true
    ) {
        self.groups = groups
        self.channels = channels
        self.remindAt = remindAt
        self.escalateTo = escalateTo
        self.escalateAfterSeconds = escalateAfterSeconds
        self.decisionLinks = decisionLinks
    }

    public static let fields: Set<String> = ["groups", "channels", "remind_at", "escalate_to", "escalate_after_seconds", "decision_links"]
    public static let maxReminders = 5

    /// As stored and shown: only what differs from the defaults.
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if !groups.isEmpty { object["groups"] = .array(groups.map(JSONValue.string)) }
        if channels != Channel.allCases { object["channels"] = .array(channels.map { .string($0.rawValue) }) }
        if !remindAt.isEmpty { object["remind_at"] = .array(remindAt.map(JSONValue.number)) }
        if let escalateTo { object["escalate_to"] = .string(escalateTo) }
        if let escalateAfterSeconds { object["escalate_after_seconds"] = .integer(escalateAfterSeconds) }
        if !decisionLinks { object["decision_links"] = .bool(false) }
        return .object(object)
    }

    /// The rules `value` describes, every bad field reported (as `notifications.<field>`).
    /// `timeoutSeconds` is the policy's approval timeout: escalation must come before it.
    public static func parse(_ value: JSONValue, timeoutSeconds: Int) -> Result<NotificationRules, ValidationFailure> {
        guard case .object(let object) = value else {
            return .failure(ValidationFailure([FieldError(field: "notifications", message: "must be an object")]))
        }
        var errors = object.keys.sorted().filter { !fields.contains($0) }.map {
            FieldError(field: "notifications.\($0)", message: "is not a known field")
        }
        var rules = NotificationRules()
        func fail(_ field: String, _ message: String) { errors.append(FieldError(field: "notifications.\(field)", message: message)) }

        if let raw = object["groups"] {
            if case .array(let items) = raw, items.count <= ManageReviewerDirectory.maxGroups,
               let names = Optional(items.compactMap(\.stringValue)), names.count == items.count,
               names.allSatisfy(ManageReviewerDirectory.isGroupName), Set(names).count == names.count
            {
                rules.groups = names
            } else {
                fail("groups", "must be at most \(ManageReviewerDirectory.maxGroups) distinct group names")
            }
        }
        if let raw = object["channels"] {
            if case .array(let items) = raw, !items.isEmpty,
               let channels = Optional(items.compactMap { $0.stringValue.flatMap(Channel.init(rawValue:)) }),
               channels.count == items.count, Set(channels).count == channels.count
            {
                rules.channels = channels
            } else {
                fail("channels", "must list \"email\" and/or \"slack\", each once")
            }
        }
        if let raw = object["remind_at"] {
            if case .array(let items) = raw, items.count <= maxReminders,
               let fractions = Optional(items.compactMap(\.numberValue)), fractions.count == items.count,
               fractions.allSatisfy({ $0 > 0 && $0 < 1 }), fractions == fractions.sorted(), Set(fractions).count == fractions.count
            {
                rules.remindAt = fractions
            } else {
                fail("remind_at", "must be at most \(maxReminders) ascending fractions of the timeout, each between 0 and 1 (e.g. [0.5, 0.9])")
            }
        }
        if let raw = object["escalate_to"] {
            if let name = raw.stringValue, ManageReviewerDirectory.isGroupName(name) {
                rules.escalateTo = name
            } else {
                fail("escalate_to", "must be a group name")
            }
        }
        if let raw = object["escalate_after_seconds"] {
            if case .integer(let seconds) = raw, seconds >= 1, seconds < timeoutSeconds {
                rules.escalateAfterSeconds = seconds
            } else {
                fail("escalate_after_seconds", "must be a whole number of seconds shorter than the approval timeout (\(timeoutSeconds))")
            }
        }
        if (rules.escalateTo == nil) != (rules.escalateAfterSeconds == nil), errors.isEmpty {
            fail(rules.escalateTo == nil ? "escalate_to" : "escalate_after_seconds", "escalate_to and escalate_after_seconds go together")
        }
        if let raw = object["decision_links"] {
            if case .bool(let allowed) = raw { rules.decisionLinks = allowed } else { fail("decision_links", "must be true or false") }
        }
        return errors.isEmpty ? .success(rules) : .failure(ValidationFailure(errors))
    }

    /// Rules read back from storage; anything unreadable announces to everyone with
    /// links off (the safer reading: deciding then takes a console sign-in).
    public static func stored(_ value: JSONValue) -> NotificationRules {
        switch parse(value, timeoutSeconds: Int.max) {
        case .success(let rules): return rules
        case .failure: return NotificationRules(decisionLinks: false)
        }
    }
}

extension JSONValue {
    var stringValue: String? { if case .string(let text) = self { text } else { nil } }
    var numberValue: Double? {
        switch self {
        case .integer(let n): Double(n)
        case .number(let d): d
        default: nil
        }
    }
}
