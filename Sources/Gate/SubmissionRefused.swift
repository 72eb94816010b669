import Actions

/// A submission the gate refused; its `job.refused` audit row is written before this is
/// thrown. Front doors render `kind` (REST: 400, 422, 403, 410, 429).
public struct SubmissionRefused: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The request itself is unusable (not an object, a bad or missing key).
        case malformed
        /// Well-formed but invalid: unknown fields, a bad action or params, a key reused
        /// with another payload.
        case invalid
        /// The workspace's policy does not allow it.
        case forbidden
        /// The key's job ran and was purged from history; it is not created again.
        case purged(jobID: String, jobStatus: String)
        /// The workspace's automatic queue is past its limit (`QueueFull`); gated jobs
        /// are still taken. Try again after the seconds given.
        case queueFull(retryAfterSeconds: Int)

        /// The status the REST API answers with, which the audit row records too (so
        /// the log reads the same whichever front door the submission came through).
        public var status: Int {
            switch self {
            case .malformed: return 400
            case .invalid: return 422
            case .forbidden: return 403
            case .purged: return 410
            case .queueFull: return 429
            }
        }
    }

    public let kind: Kind
    /// A stable code for the audit row and for clients (`validation_failed`, `action_not_allowed`, …).
    public let reason: String
    public let detail: String
    /// Field-level errors of a validation failure.
    public let errors: [FieldError]
    /// The action it asked for, when it named one.
    public let action: String?

    public init(_ kind: Kind, reason: String, detail: String, errors: [FieldError] = [], action: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.detail = detail
        self.errors = errors
        self.action = action
    }
}

/// Another request with the same Idempotency-Key and payload is still being served.
public struct SubmissionInFlight: Error, Sendable, Equatable {
    public init() {}
}
