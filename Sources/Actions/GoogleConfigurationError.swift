import Foundation

/// A Google base URL in the environment that cannot work; raised at startup, not per job.
public struct GoogleConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let variable: String
    public let reason: String

    public var description: String { "\(variable) \(reason)" }

    /// The variable's value (or `default`), which must be an absolute http(s) URL.
    static func checkedURL(_ environment: [String: String], _ variable: String, default fallback: String)
        throws(GoogleConfigurationError) -> String
    {
        let value = environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host?.isEmpty == false
        else { throw GoogleConfigurationError(variable: variable, reason: "must be an absolute http(s) URL") }
        // Trailing slashes would double up when paths are appended.
        var trimmed = value
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }
}
