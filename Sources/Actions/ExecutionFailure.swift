/// Why an action did not run, classified so the executor knows what to do next:
/// retry later (`retryable`, optionally not before `retryAfter`) or give up and
/// dead-letter the job (`permanent`). `message` goes to the audit log and logs, so it
/// never holds a token, a secret or an email body.
public struct ExecutionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case permanent
        case retryable
        /// An earlier attempt may have done the work, and the provider cannot be asked
        /// whether it did: neither retried nor failed, but parked (a dead letter with
        /// code `delivery_unknown`) until an admin confirms a resend.
        case deliveryUnknown
    }

    public let kind: Kind
    /// Stable machine code, e.g. `gmail_rate_limited`; dashboards and tests match on it.
    public let code: String
    public let message: String
    /// The server asked us to wait at least this long (HTTP `Retry-After`).
    public let retryAfter: Duration?
    /// The provider said the workspace's credential sends too fast (a per-user quota):
    /// the workspace's other jobs for the same action wait as long as this one, rather
    /// than each hitting the same limit. Other workspaces are not affected.
    public let slowsDownCredential: Bool

    public init(kind: Kind, code: String, message: String, retryAfter: Duration? = nil, slowsDownCredential: Bool = false) {
        self.kind = kind
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.slowsDownCredential = slowsDownCredential
    }

    public static func permanent(_ code: String, _ message: String) -> ExecutionFailure {
        ExecutionFailure(kind: .permanent, code: code, message: message)
    }

    public static func retryable(_ code: String, _ message: String, retryAfter: Duration? = nil) -> ExecutionFailure {
        ExecutionFailure(kind: .retryable, code: code, message: message, retryAfter: retryAfter)
    }

    /// The provider's rate limit for this credential: retryable, and its workspace's
    /// other jobs for the action wait too.
    public static func rateLimited(_ code: String, _ message: String, retryAfter: Duration? = nil) -> ExecutionFailure {
        ExecutionFailure(kind: .retryable, code: code, message: message, retryAfter: retryAfter, slowsDownCredential: true)
    }

    public var isRetryable: Bool { kind == .retryable }

    public var description: String {
        let wait = retryAfter.map { ", retry after \($0)" } ?? ""
        return "\(kind.rawValue) \(code): \(message)\(wait)"
    }
}
