import Foundation
import GateCore

/// `task.create` params: `title`, optional `description`, `due_at` (RFC 3339),
/// `assignee`, `labels` (at most 20 distinct).
public struct TaskCreate: Sendable, Equatable {
    public let title: String
    public let description: String?
    public let dueAt: Date?
    public let assignee: String?
    public let labels: [String]

    static func parse(_ params: JSONValue) -> Result<TaskCreate, ValidationFailure> {
        var reader: ParamReader
        switch ParamReader.object(params, path: "params") {
        case .success(let object): reader = object
        case .failure(let failure): return .failure(failure)
        }
        let title = reader.string("title", required: true, maxLength: 500)
        let description = reader.string("description", required: false, maxLength: 10_000, singleLine: false)
        var dueAt: Date?
        if let text = reader.string("due_at", required: false, maxLength: 64) {
            dueAt = RFC3339.parse(text)
            if dueAt == nil { reader.fail("due_at", "must be an RFC 3339 timestamp, e.g. 2026-12-01T09:00:00Z") }
        }
        let assignee = reader.string("assignee", required: false, maxLength: 255)
        let labels = reader.strings("labels", required: false, count: 0...20, maxLength: 50) ?? []
        if Set(labels).count != labels.count { reader.fail("labels", "must not repeat a label") }
        reader.rejectUnknownFields()
        guard reader.errors.isEmpty, let title else { return .failure(ValidationFailure(reader.errors)) }
        return .success(TaskCreate(title: title, description: description, dueAt: dueAt, assignee: assignee, labels: labels))
    }

    var normalized: JSONValue {
        var object: [String: JSONValue] = ["title": .string(title)]
        if let description { object["description"] = .string(description) }
        if let dueAt { object["due_at"] = .string(RFC3339.format(dueAt)) }
        if let assignee { object["assignee"] = .string(assignee) }
        if !labels.isEmpty { object["labels"] = .array(labels.map { .string($0) }) }
        return .object(object)
    }

    /// The task exactly as it will be created.
    var preview: JSONValue {
        var object = normalized
        if case .object(var members) = object {
            members["labels"] = .array(labels.map { .string($0) })
            object = .object(members)
        }
        return object
    }
}

/// RFC 3339 timestamps: parsed strictly (`RFC3339Text`: any offset, a real calendar
/// date, years 0001-9999), always written in UTC with whole seconds.
public enum RFC3339 {
    public static func parse(_ text: String) -> Date? {
        RFC3339Text.date(text)
    }

    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }
}
