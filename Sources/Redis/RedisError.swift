/// Why a Redis command did not produce a reply. Callers map `unavailable` and
/// `timeout` to 503: both mean "try again later", never "bad input".
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection could be made or the connection dropped before the reply.
    case unavailable(String)
    /// The reply did not arrive within the command timeout; the connection was closed.
    case timeout
    /// Redis answered with an error reply (e.g. `ERR`, `WRONGTYPE`, `NOSCRIPT`).
    case server(String)
    /// The bytes from the server were not valid RESP, or a reply had an unexpected shape.
    case protocolError(String)
    /// The URL or TLS settings are unusable.
    case invalidConfiguration(String)
    /// The client was shut down.
    case shutdown

    public var description: String {
        switch self {
        case .unavailable(let why): return "redis unavailable: \(why)"
        case .timeout: return "redis command timed out"
        case .server(let message): return "redis error: \(message)"
        case .protocolError(let why): return "redis protocol error: \(why)"
        case .invalidConfiguration(let why): return "invalid redis configuration: \(why)"
        case .shutdown: return "redis client is shut down"
        }
    }
}
