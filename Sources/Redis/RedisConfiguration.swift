import Foundation
import NIOCore

/// Where and how to reach Redis, parsed from `redis://[user[:password]@]host[:port][/db]`
/// or `rediss://…` (TLS).
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    public var useTLS: Bool
    /// PEM file with the CA that signed the server's certificate; the system trust store otherwise.
    public var tlsCAFile: String?
    public var poolSize: Int
    public var connectTimeout: TimeAmount
    public var commandTimeout: TimeAmount

    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, useTLS: Bool = false, tlsCAFile: String? = nil, poolSize: Int = 2,
        connectTimeout: TimeAmount = .seconds(2), commandTimeout: TimeAmount = .seconds(2)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.useTLS = useTLS
        self.tlsCAFile = tlsCAFile
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    public init(url: String) throws(RedisError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .invalidConfiguration("not a URL")
        }
        switch scheme {
        case "redis": self.init(useTLS: false)
        case "rediss": self.init(port: 6379, useTLS: true)
        default: throw .invalidConfiguration("scheme must be redis:// or rediss://")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalidConfiguration("missing host") }
        // IPv6 literals arrive bracketed from URLComponents on some platforms.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let port = components.port {
            guard (1...65535).contains(port) else { throw .invalidConfiguration("port out of range") }
            self.port = port
        }
        // `redis://:password@host` (empty user) is the common form for servers without ACL users.
        if let user = components.user, !user.isEmpty { self.username = user.removingPercentEncoding ?? user }
        if let password = components.password { self.password = password.removingPercentEncoding ?? password }
        let path = components.path.drop { $0 == "/" }
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else { throw .invalidConfiguration("database must be a number") }
            self.database = database
        }
    }

    /// host:port for messages; never includes credentials.
    public var endpointDescription: String { "\(host):\(port)" }
}
