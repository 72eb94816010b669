import Foundation
import Logging
import NIOCore
import Persistence
import PostgresNIO
import Redis

/// Every setting GateAPI reads, parsed and checked once at start-up. `.env.example`
/// lists each variable with its default.
struct AppConfig: Sendable {
    enum LogFormat: String, Sendable { case json, text }

    var host: String
    var port: Int
    var databaseURL: String
    var database: PostgresClient.Configuration
    var redis: RedisConfiguration
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var maxBodyBytes: Int
    var migrationsDirectory: String
    var approvalTimeoutSeconds: Int
    var approvalHistoryTTLSeconds: Int
    var maxApprovalHistory: Int
    var idempotencyTTLSeconds: Int
    var allowedActionsDefault: [String]
    var actionMaxAttempts: Int
    var jwtIssuer: String
    var jwtAudience: String
    var rateLimitPerMinute: Int

    /// Reads the configuration from `environment`; the error names the first bad variable.
    static func load(from environment: [String: String]) throws(ConfigError) -> AppConfig {
        let env = Environment(values: environment)
        let databaseURL = try env.required("DATABASE_URL")
        let database: PostgresClient.Configuration
        do {
            database = try DatabaseConfiguration.parse(
                databaseURL, maximumConnections: try env.int("DATABASE_POOL_SIZE", default: 20, in: 1...500))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(variable: "DATABASE_URL", problem: "\(error)")
        }
        var redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(url: env.string("REDIS_URL", default: "redis://127.0.0.1:6379"))
        } catch {
            throw ConfigError(variable: "REDIS_URL", problem: "\(error)")
        }
        redis.poolSize = try env.int("REDIS_POOL_SIZE", default: 2, in: 1...64)
        redis.commandTimeout = .milliseconds(Int64(try env.int("REDIS_TIMEOUT_MS", default: 2000, in: 10...60000)))
        redis.connectTimeout = redis.commandTimeout
        redis.tlsCAFile = env.optional("REDIS_TLS_CA_FILE")

        let level = env.string("LOG_LEVEL", default: "info")
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigError(variable: "LOG_LEVEL", problem: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard let logFormat = LogFormat(rawValue: env.string("LOG_FORMAT", default: "json").lowercased()) else {
            throw ConfigError(variable: "LOG_FORMAT", problem: "must be json or text")
        }
        let actions = env.string("ALLOWED_ACTIONS_DEFAULT", default: "gmail.send,task.create")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }

        return AppConfig(
            host: env.string("HOST", default: "127.0.0.1"),
            port: try env.int("PORT", default: 8080, in: 0...65535),
            databaseURL: databaseURL,
            database: database,
            redis: redis,
            logLevel: logLevel,
            logFormat: logFormat,
            maxBodyBytes: try env.int("MAX_BODY_BYTES", default: 1_048_576, in: 1024...(64 << 20)),
            migrationsDirectory: env.string("MIGRATIONS_DIR", default: "migrations"),
            approvalTimeoutSeconds: try env.int("APPROVAL_TIMEOUT_SECONDS", default: 86400, in: 1...31_536_000),
            approvalHistoryTTLSeconds: try env.int("APPROVAL_HISTORY_TTL_SECONDS", default: 2_592_000, in: 1...315_360_000),
            maxApprovalHistory: try env.int("MAX_APPROVAL_HISTORY", default: 1000, in: 1...10_000_000),
            idempotencyTTLSeconds: try env.int("IDEMPOTENCY_TTL_SECONDS", default: 86400, in: 1...31_536_000),
            allowedActionsDefault: actions,
            actionMaxAttempts: try env.int("ACTION_MAX_ATTEMPTS", default: 5, in: 1...100),
            jwtIssuer: env.string("JWT_ISSUER", default: "gateapi-dev"),
            jwtAudience: env.string("JWT_AUDIENCE", default: "gateapi"),
            rateLimitPerMinute: try env.int("RATE_LIMIT_PER_MINUTE", default: 600, in: 1...1_000_000)
        )
    }
}

/// A configuration problem, printed as one line naming the variable.
struct ConfigError: Error, CustomStringConvertible {
    let variable: String
    let problem: String
    var description: String { "configuration error: \(variable) \(problem)" }
}

/// Typed reads of environment variables; an empty value counts as unset.
private struct Environment {
    let values: [String: String]

    func optional(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    func string(_ name: String, default fallback: String) -> String { optional(name) ?? fallback }

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
