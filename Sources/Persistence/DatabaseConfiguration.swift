import Foundation
import Gate
import NIOSSL
import PostgresNIO

/// Why `DATABASE_URL` cannot be used; the message never contains the password.
public struct DatabaseURLError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Parses `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`
/// (also `postgresql://`) into a pooled-client configuration.
public enum DatabaseConfiguration {
    /// The pool keeps no minimum of connections open: PostgresNIO 1.33.2's pool (and its
    /// newest code) traps, killing the process, when it must open a connection on demand
    /// while it holds fewer than its minimum (`precondition` in
    /// `ConnectionGroup.createNewDemandConnectionIfPossible`). A database restart gets
    /// it there: while connections cannot be made, the pool retries one and drops the
    /// others' slots; the first request that waits for a connection after the database
    /// is back reaches the precondition. With a minimum of 0 it always holds.
    /// Connections are opened on demand and closed after `idleTimeout` unused. The pool
    /// runs no keep-alive query (a dead connection is found on first use). Each time a
    /// connection goes idle the pool arms an idle timer, a `Task.sleep` that on Linux
    /// keeps its memory until its deadline even when cancelled (swiftlang/swift#60441):
    /// memory grows with request rate × `idleTimeout`, which is why it is short.
    public static func parse(
        _ url: String, maximumConnections: Int = 20, idleTimeout: Duration = .seconds(10)
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
        configuration.options.minimumConnections = 0
        configuration.options.connectionIdleTimeout = idleTimeout
        configuration.options.keepAliveBehavior = nil
        return configuration
    }
}
