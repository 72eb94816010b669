import Foundation
import Gate
import GateCore
import Logging
import NIOCore
import Actions
import Auth
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
    /// The migrating and the serving role (`MIGRATION_DATABASE_URL`, `DATABASE_ROLE`).
    var databaseRoles: DatabaseRoleSettings
    var redis: RedisConfiguration
    var redisKeyPrefix: String
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var maxBodyBytes: Int
    var migrationsDirectory: String
    var approvalTimeoutSeconds: Int
    var approvalHistoryTTLSeconds: Int
    var maxApprovalHistory: Int
    var idempotencyTTLSeconds: Int
    var allowedActionsDefault: [String]
    var executor: ExecutorSettings
    var gmail: GmailSettings
    var jwt: JWTSettings
    var keyRotationOverlapSeconds: Int
    var rateLimits: RateLimitSettings
    /// Expiry sweeper and history purge in this replica (`BACKGROUND_WORKERS`).
    var backgroundWorkers: Bool
    var sweepInterval: Duration
    var purgeInterval: Duration
    /// How often committed audit events are chained (`AUDIT_SEAL_INTERVAL_MS`).
    var auditSealInterval: Duration
    /// How long API keys and policies may be served from memory (`CONFIG_CACHE_SECONDS`)
    /// if a change notification is lost; normally a change reaches every replica at once.
    var configCacheTTL: Duration
    /// How long a request waits for Postgres before it is answered 503
    /// (`DATABASE_TIMEOUT_MS`): a dead or stalled database never hangs a client.
    var databaseTimeout: Duration
    var webhooks: WebhookSettings
    /// Audit exports and verifications at once per replica (`AUDIT_EXPORT_CONCURRENCY`);
    /// each holds a pooled connection while it runs.
    var auditExportConcurrency: Int
    /// How long `serve` waits for its services to stop after SIGTERM before cancelling
    /// them (`SHUTDOWN_TIMEOUT_SECONDS`); below the platform's own grace period.
    var shutdownTimeout: Duration
    /// Failed authentications (per client address) and foreign-workspace 404s (per
    /// principal) written to the audit log a minute (`AUTH_DENIAL_AUDIT_PER_MINUTE`),
    /// after a burst (`AUTH_DENIAL_AUDIT_BURST`); see `DenialAuditBudget`.
    var authDenialAuditPerMinute: Int
    var authDenialAuditBurst: Int
    /// What one tenant or client may hold of what all share (`ResourceLimits`).
    var limits: ResourceLimits
    /// The reviewer console and the development outbox.
    var console: ConsoleSettings
    /// Telling reviewers of approvals: email, Slack, decision links (issue 27).
    var notifications: NotificationSettings

    /// Reads the configuration from `environment`; the error names the first bad variable.
    static func load(from environment: [String: String]) throws(ConfigError) -> AppConfig {
        let env = Environment(values: environment)
        let databaseURL = try env.required("DATABASE_URL")
        var database: PostgresClient.Configuration
        do {
            // A minimum of open connections gets PostgresNIO's pool to trap when Postgres
            // restarts (see DatabaseConfiguration), so the setting that asked for one is refused.
            if let minimum = env.optional("DATABASE_POOL_MIN_SIZE"), minimum != "0" {
                throw ConfigError(
                    variable: "DATABASE_POOL_MIN_SIZE",
                    problem: "must be 0 or unset, got \"\(minimum)\": a pool that keeps connections open crashes the server when Postgres restarts (docs/operations.md, \"Database pool\")")
            }
            database = try DatabaseConfiguration.parse(
                databaseURL, maximumConnections: try env.int("DATABASE_POOL_SIZE", default: 20, in: 1...500),
                idleTimeout: .seconds(try env.int("DATABASE_POOL_IDLE_SECONDS", default: 10, in: 1...3600)))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(variable: "DATABASE_URL", problem: "\(error)")
        }
        let databaseRoles = try DatabaseRoleSettings.parse(
            serving: &database, databaseURL: databaseURL, migrationURL: env.optional("MIGRATION_DATABASE_URL"),
            role: env.optional("DATABASE_ROLE"),
            allowPrivilegedRole: try env.bool("DATABASE_ALLOW_PRIVILEGED_ROLE", default: false))
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
        let actions = env.list("ALLOWED_ACTIONS_DEFAULT", default: "gmail.send,task.create")
        if let unknown = actions.first(where: { ActionName(rawValue: $0) == nil }) {
            throw ConfigError(variable: "ALLOWED_ACTIONS_DEFAULT", problem: "names an unknown action \"\(unknown)\"")
        }

        var jwt = JWTSettings(
            issuer: env.string("JWT_ISSUER", default: "gateapi-dev"),
            audience: env.string("JWT_AUDIENCE", default: "gateapi"))
        if let secret = env.optional("JWT_SECRET") {
            // Shorter HMAC keys are brute-forceable (RFC 7518 §3.2), and JWTKit refuses them.
            guard secret.utf8.count >= 32 else {
                throw ConfigError(variable: "JWT_SECRET", problem: "must be at least 32 bytes")
            }
            jwt.hmacSecret = secret
        }
        jwt.hmacKeyID = env.optional("JWT_SECRET_KID")
        jwt.jwksFile = env.optional("JWT_JWKS_FILE")
        if let file = jwt.jwksFile, !FileManager.default.isReadableFile(atPath: file) {
            throw ConfigError(variable: "JWT_JWKS_FILE", problem: "cannot read \(file)")
        }
        jwt.jwksURL = env.optional("JWT_JWKS_URL")
        if jwt.jwksFile != nil && jwt.jwksURL != nil {
            // A refresh from the URL replaces the key set; keys from a file would silently vanish.
            throw ConfigError(variable: "JWT_JWKS_URL", problem: "cannot be combined with JWT_JWKS_FILE; use one")
        }
        if let url = jwt.jwksURL, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw ConfigError(variable: "JWT_JWKS_URL", problem: "must be an http(s) URL")
        }
        jwt.leewaySeconds = Double(try env.int("JWT_LEEWAY_SECONDS", default: 30, in: 0...60))
        jwt.maxLifetimeSeconds = Double(try env.int("JWT_MAX_LIFETIME_SECONDS", default: 86400, in: 60...2_592_000))
        let algorithms = env.list("JWT_ALGORITHMS", default: "HS256,RS256,ES256,EdDSA")
        if let bad = algorithms.first(where: { !JWTSettings.supportedAlgorithms.contains($0) }) {
            throw ConfigError(
                variable: "JWT_ALGORITHMS",
                problem: "\"\(bad)\" is not one of \(JWTSettings.supportedAlgorithms.sorted().joined(separator: ", "))")
        }
        jwt.allowedAlgorithms = Set(algorithms)
        jwt.jwksRefreshInterval = .seconds(try env.int("JWT_JWKS_REFRESH_SECONDS", default: 60, in: 1...86400))

        let perMinute = try env.int("RATE_LIMIT_PER_MINUTE", default: 600, in: 1...1_000_000)
        let rateLimits = RateLimitSettings(
            perMinute: perMinute,
            burst: try env.int("RATE_LIMIT_BURST", default: max(1, perMinute / 10), in: 1...1_000_000),
            workspacePerMinute: try env.int("WORKSPACE_RATE_LIMIT_PER_MINUTE", default: perMinute * 10, in: 1...10_000_000),
            approvalsPerMinute: try env.int("APPROVALS_RATE_LIMIT_PER_MINUTE", default: 120, in: 1...1_000_000))

        let leaseSeconds = try env.int("EXECUTOR_LEASE_SECONDS", default: 120, in: 5...3600)
        let attemptTimeout = try env.int("ACTION_TIMEOUT_SECONDS", default: 60, in: 1...3600)
        guard attemptTimeout < leaseSeconds else {
            throw ConfigError(variable: "ACTION_TIMEOUT_SECONDS", problem: "must be shorter than EXECUTOR_LEASE_SECONDS (\(leaseSeconds))")
        }
        // 0: no limit.
        let workspaceMaxConcurrent = try env.int("WORKSPACE_MAX_CONCURRENT_EXECUTIONS", default: 0, in: 0...100_000)
        let executor = ExecutorSettings(
            // 64: claims and outcome batches grow with the free slots, and each costs Postgres
            // about as much for 1 job as for 30; at 4 the executors drained a fifth as fast
            // (bench/RESULTS.md "Executor throughput"). A slot holds no connection.
            concurrency: try env.int("EXECUTOR_CONCURRENCY", default: 64, in: 0...256),
            pollInterval: .milliseconds(try env.int("EXECUTOR_POLL_INTERVAL_MS", default: 500, in: 10...60000)),
            leaseSeconds: leaseSeconds,
            attemptTimeout: .seconds(attemptTimeout),
            maxAttempts: try env.int("ACTION_MAX_ATTEMPTS", default: 5, in: 1...100),
            backoff: Backoff(
                base: .milliseconds(try env.int("ACTION_RETRY_BASE_MS", default: 2000, in: 10...3_600_000)),
                maximum: .seconds(try env.int("ACTION_RETRY_MAX_SECONDS", default: 900, in: 1...86400))),
            workspaceMaxConcurrent: workspaceMaxConcurrent == 0 ? nil : workspaceMaxConcurrent)
        var gmail: GmailSettings
        do {
            gmail = GmailSettings(
                client: try GmailClient.Configuration.fromEnvironment(environment),
                tokens: try GoogleTokenProvider.Configuration.fromEnvironment(environment),
                sender: try GmailSender.Configuration.fromEnvironment(environment))
        } catch {
            throw ConfigError(variable: error.variable, problem: error.reason)
        }
        let googleTimeout = Duration.seconds(try env.int("GMAIL_REQUEST_TIMEOUT_SECONDS", default: 10, in: 1...300))
        gmail.client.requestTimeout = googleTimeout
        gmail.tokens.requestTimeout = googleTimeout
        if env.optional("SECRETS_KEY") != nil {
            do {
                gmail.secrets = try SecretBox.fromEnvironment(environment)
            } catch {
                throw ConfigError(variable: "SECRETS_KEY", problem: "(or SECRETS_KEY_PREVIOUS) is invalid: \(error)")
            }
        }

        let auditExportConcurrency = try env.int("AUDIT_EXPORT_CONCURRENCY", default: 2, in: 1...100)
        let limits = try ResourceLimits.load(env, auditExportConcurrency: auditExportConcurrency)

        let host = env.string("HOST", default: "127.0.0.1")
        let port = try env.int("PORT", default: 8080, in: 0...65535)
        let console = try ConsoleSettings.load(env)
        // Links in notifications point where people reach the console: its configured
        // address, else the one Render gives the service, else this server's own.
        let renderURL = env.optional("RENDER_EXTERNAL_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let notifications = try NotificationSettings.load(env, publicURL: console.publicURL ?? renderURL ?? "http://\(host):\(port)")
        return AppConfig(
            host: host,
            port: port,
            databaseURL: databaseURL,
            database: database,
            databaseRoles: databaseRoles,
            redis: redis,
            redisKeyPrefix: env.string("REDIS_KEY_PREFIX", default: "gateapi:"),
            logLevel: logLevel,
            logFormat: logFormat,
            maxBodyBytes: try env.int("MAX_BODY_BYTES", default: 1_048_576, in: 1024...(64 << 20)),
            migrationsDirectory: env.string("MIGRATIONS_DIR", default: "migrations"),
            approvalTimeoutSeconds: try env.int("APPROVAL_TIMEOUT_SECONDS", default: 86400, in: 1...31_536_000),
            approvalHistoryTTLSeconds: try env.int("APPROVAL_HISTORY_TTL_SECONDS", default: 2_592_000, in: 1...315_360_000),
            maxApprovalHistory: try env.int("MAX_APPROVAL_HISTORY", default: 1000, in: 1...10_000_000),
            idempotencyTTLSeconds: try env.int("IDEMPOTENCY_TTL_SECONDS", default: 86400, in: 1...31_536_000),
            allowedActionsDefault: actions,
            executor: executor,
            gmail: gmail,
            jwt: jwt,
            keyRotationOverlapSeconds: try env.int("API_KEY_ROTATION_OVERLAP_SECONDS", default: 86400, in: 0...2_592_000),
            rateLimits: rateLimits,
            backgroundWorkers: try env.bool("BACKGROUND_WORKERS", default: true),
            sweepInterval: .milliseconds(try env.int("SWEEP_INTERVAL_MS", default: 1000, in: 50...60000)),
            purgeInterval: .seconds(try env.int("PURGE_INTERVAL_SECONDS", default: 60, in: 1...86400)),
            auditSealInterval: .milliseconds(try env.int("AUDIT_SEAL_INTERVAL_MS", default: 250, in: 10...60000)),
            configCacheTTL: .seconds(try env.int("CONFIG_CACHE_SECONDS", default: 10, in: 0...300)),
            databaseTimeout: .milliseconds(try env.int("DATABASE_TIMEOUT_MS", default: 2000, in: 100...60000)),
            webhooks: WebhookSettings(
                secret: try env.secret("WEBHOOK_SECRET", minimumBytes: 32),
                legacySignature: try env.bool("WEBHOOK_LEGACY_SIGNATURE", default: true),
                maxAttempts: try env.int("WEBHOOK_MAX_ATTEMPTS", default: 8, in: 1...50),
                retryBase: .milliseconds(try env.int("WEBHOOK_RETRY_BASE_MS", default: 1000, in: 10...3_600_000)),
                allowPrivateNetworks: try env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default: false),
                timeout: .seconds(try env.int("WEBHOOK_TIMEOUT_SECONDS", default: 10, in: 1...120)),
                concurrency: try env.int("WEBHOOK_CONCURRENCY", default: 16, in: 1...1000),
                concurrencyPerWorkspace: try env.int("WEBHOOK_CONCURRENCY_PER_WORKSPACE", default: 4, in: 1...1000)),
            auditExportConcurrency: auditExportConcurrency,
            shutdownTimeout: .seconds(try env.int("SHUTDOWN_TIMEOUT_SECONDS", default: 25, in: 1...3600)),
            authDenialAuditPerMinute: try env.int("AUTH_DENIAL_AUDIT_PER_MINUTE", default: 60, in: 1...1_000_000),
            authDenialAuditBurst: try env.int("AUTH_DENIAL_AUDIT_BURST", default: 30, in: 1...1_000_000),
            limits: limits,
            console: console,
            notifications: notifications
        )
    }
}

/// A configuration problem, printed as one line naming the variable.
struct ConfigError: Error, CustomStringConvertible {
    let variable: String
    let problem: String
    var description: String { "configuration error: \(variable) \(problem)" }
}

extension ResourceLimits {
    static func load(_ env: Environment, auditExportConcurrency: Int) throws(ConfigError) -> ResourceLimits {
        var limits = ResourceLimits()
        limits.eventWaitersPerReplica = try env.int("EVENT_WAITERS_PER_REPLICA", default: 1000, in: 1...1_000_000)
        limits.eventWaitersPerPrincipal = try env.int("EVENT_WAITERS_PER_PRINCIPAL", default: 10, in: 1...1_000_000)
        guard limits.eventWaitersPerPrincipal <= limits.eventWaitersPerReplica else {
            throw ConfigError(variable: "EVENT_WAITERS_PER_PRINCIPAL", problem: "must not exceed EVENT_WAITERS_PER_REPLICA (\(limits.eventWaitersPerReplica))")
        }
        limits.auditExportsPerWorkspace = try env.int("AUDIT_EXPORT_PER_WORKSPACE", default: 1, in: 1...100)
        guard limits.auditExportsPerWorkspace <= auditExportConcurrency else {
            throw ConfigError(variable: "AUDIT_EXPORT_PER_WORKSPACE", problem: "must not exceed AUDIT_EXPORT_CONCURRENCY (\(auditExportConcurrency))")
        }
        limits.auditExportIdleTimeout = .seconds(try env.int("AUDIT_EXPORT_IDLE_SECONDS", default: 30, in: 1...3600))
        limits.auditExportMaxDuration = .seconds(try env.int("AUDIT_EXPORT_MAX_SECONDS", default: 900, in: 1...86400))
        limits.httpReadTimeout = .seconds(try env.int("HTTP_READ_TIMEOUT_SECONDS", default: 30, in: 1...3600))
        limits.authFailuresPerMinute = try env.int("AUTH_FAILURES_PER_MINUTE", default: 60, in: 1...1_000_000)
        limits.authFailuresBurst = try env.int("AUTH_FAILURES_BURST", default: 20, in: 1...1_000_000)
        limits.maxSubmissionBodyBytes = try env.int("MAX_SUBMISSION_BODY_BYTES", default: 30 << 20, in: 1024...(256 << 20))
        limits.largeSubmissionsPerReplica = try env.int("LARGE_SUBMISSIONS_PER_REPLICA", default: 2, in: 1...1000)
        limits.metricsToken = try env.secret("METRICS_TOKEN", minimumBytes: 16)
        let maxQueued = try env.int("WORKSPACE_MAX_QUEUED_JOBS", default: QueueLimits.defaultMaxQueued, in: 0...100_000_000)
        let maxQueueAge = try env.int("WORKSPACE_MAX_QUEUE_AGE_SECONDS", default: 0, in: 0...31_536_000)
        limits.workspaceQueue = QueueLimits(maxQueued: maxQueued == 0 ? nil : maxQueued, maxAgeSeconds: maxQueueAge == 0 ? nil : maxQueueAge)
        limits.queueSampleInterval = .milliseconds(try env.int("QUEUE_SAMPLE_INTERVAL_MS", default: 1000, in: 50...60000))
        for cidr in env.list("TRUSTED_PROXIES", default: "") {
            guard let network = IPNetwork(cidr) else {
                throw ConfigError(variable: "TRUSTED_PROXIES", problem: "has \"\(cidr)\", which is not an IP address or CIDR network")
            }
            limits.trustedProxies.append(network)
        }
        return limits
    }
}
