/// Why an execution attempt failed, classified: a permanent failure ends the job
/// (`failed`), a retryable one is tried again later. `message` is safe to store and
/// log: never a token, a secret or a message body.
public struct ExecutionFailure: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case permanent, retryable
    }

    public var kind: Kind
    public var code: String
    public var message: String
    public var retryAfter: Duration?

    public init(_ kind: Kind, code: String, message: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }
}
