import Foundation

/// Typed reads of environment variables; an empty value counts as unset.
struct Environment {
    let values: [String: String]

    func optional(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    func string(_ name: String, default fallback: String) -> String { optional(name) ?? fallback }

    func secret(_ name: String, minimumBytes: Int) throws(ConfigError) -> String? {
        guard let value = optional(name) else { return nil }
        guard value.utf8.count >= minimumBytes else {
            throw ConfigError(variable: name, problem: "must be at least \(minimumBytes) bytes")
        }
        return value
    }

    func bool(_ name: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let raw = optional(name)?.lowercased() else { return fallback }
        switch raw {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigError(variable: name, problem: "must be true or false, got \"\(raw)\"")
        }
    }

    /// A comma-separated list; blanks dropped.
    func list(_ name: String, default fallback: String) -> [String] {
        string(name, default: fallback).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    func required(_ name: String) throws(ConfigError) -> String {
        guard let value = optional(name) else { throw ConfigError(variable: name, problem: "is required") }
        return value
    }

    func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let raw = optional(name) else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            throw ConfigError(variable: name, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\"")
        }
        return value
    }
}
