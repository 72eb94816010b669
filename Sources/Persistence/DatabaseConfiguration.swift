import Foundation
import NIOSSL
import PostgresNIO

/// Why `DATABASE_URL` cannot be used; the message never contains the password.
public struct DatabaseURLError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Parses `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`
/// (also `postgresql://`) into a pooled-client configuration.
public enum DatabaseConfiguration {
    /// `minimumConnections` are opened at start and kept open. The pool runs no
    /// keep-alive query: its per-release keep-alive and idle timers are cancelled
    /// `Task.sleep`s, which on Linux hold memory until their deadline (swiftlang/swift#60441),
    /// measured at ≈450 MiB under 2,500 req/s; a dead connection is found on first use.
    public static func parse(
        _ url: String, maximumConnections: Int = 20, minimumConnections: Int = 0
    ) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else { throw DatabaseURLError(description: "must be a postgres:// URL") }
        guard let host = components.host, !host.isEmpty else { throw DatabaseURLError(description: "missing host") }
        guard let user = components.user, !user.isEmpty else { throw DatabaseURLError(description: "missing user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw DatabaseURLError(description: "missing database name") }
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw DatabaseURLError(description: "sslmode must be disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.removingPercentEncoding ?? database,
            tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = min(minimumConnections, maximumConnections)
        configuration.options.keepAliveBehavior = nil
        return configuration
    }
}
