import Testing

@testable import GateAPI

@Suite struct AppConfigTests {
    let minimal = ["DATABASE_URL": "postgres://gate@127.0.0.1:5432/gateapi"]

    @Test func defaultsMatchTheSpec() throws {
        let config = try AppConfig.load(from: minimal)
        #expect(config.port == 8080)
        #expect(config.host == "127.0.0.1")
        #expect(config.redis.host == "127.0.0.1" && config.redis.port == 6379)
        #expect(config.approvalTimeoutSeconds == 86400)
        #expect(config.approvalHistoryTTLSeconds == 2_592_000)
        #expect(config.maxApprovalHistory == 1000)
        #expect(config.idempotencyTTLSeconds == 86400)
        #expect(config.allowedActionsDefault == ["gmail.send", "task.create"])
        #expect(config.maxBodyBytes == 1_048_576)
        #expect(config.logFormat == .json)
        #expect(config.databaseTimeout == .seconds(2))
    }

    @Test func missingDatabaseURLNamesTheVariable() {
        #expect(throws: ConfigError.self) { try AppConfig.load(from: [:]) }
        do {
            _ = try AppConfig.load(from: [:])
        } catch {
            #expect(error.variable == "DATABASE_URL")
            #expect(error.description == "configuration error: DATABASE_URL is required")
        }
    }

    @Test(arguments: [
        ("PORT", "eighty"), ("PORT", "70000"), ("REDIS_URL", "http://x"), ("LOG_LEVEL", "loud"),
        ("LOG_FORMAT", "xml"), ("MAX_BODY_BYTES", "-1"), ("DATABASE_URL", "mysql://x/y"),
        ("APPROVAL_TIMEOUT_SECONDS", "0"), ("REDIS_POOL_SIZE", "0"), ("DATABASE_TIMEOUT_MS", "50"),
        ("MIGRATION_DATABASE_URL", "mysql://x/y"), ("DATABASE_ROLE", "app; DROP TABLE jobs"),
        ("DATABASE_ALLOW_PRIVILEGED_ROLE", "maybe"),
        ("DATABASE_POOL_MIN_SIZE", "20"), ("DATABASE_POOL_MIN_SIZE", "1"), ("DATABASE_POOL_IDLE_SECONDS", "0"),
    ])
    func invalidValuesNameTheirVariable(_ variable: String, _ value: String) {
        var env = minimal
        env[variable] = value
        do {
            _ = try AppConfig.load(from: env)
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.variable == variable)
        }
    }

    /// A pool that keeps a minimum of connections open traps in PostgresNIO when
    /// Postgres restarts (DatabaseConfiguration): the pool never keeps one.
    @Test func thePoolKeepsNoMinimumOpen() throws {
        #expect(try AppConfig.load(from: minimal).database.options.minimumConnections == 0)
        #expect(try AppConfig.load(from: minimal).database.options.connectionIdleTimeout == .seconds(10))
        var env = minimal
        env["DATABASE_POOL_MIN_SIZE"] = "0"
        env["DATABASE_POOL_SIZE"] = "7"
        env["DATABASE_POOL_IDLE_SECONDS"] = "30"
        let config = try AppConfig.load(from: env)
        #expect(config.database.options.minimumConnections == 0)
        #expect(config.database.options.maximumConnections == 7)
        #expect(config.database.options.connectionIdleTimeout == .seconds(30))
    }

    @Test func passwordsNeverAppearInConfigErrors() {
        do {
            _ = try AppConfig.load(from: ["DATABASE_URL": "postgres://u:topsecret@h/db?sslmode=bogus"])
            Issue.record("bad sslmode accepted")
        } catch {
            #expect(!error.description.contains("topsecret"))
        }
    }

    @Test func resourceLimitsHaveDefaultsAndAreCheckedAtStartUp() throws {
        let limits = try AppConfig.load(from: minimal).limits
        #expect(limits.eventWaitersPerPrincipal == 10 && limits.eventWaitersPerReplica == 1000)
        #expect(limits.auditExportsPerWorkspace == 1 && limits.auditExportIdleTimeout == .seconds(30))
        #expect(limits.httpReadTimeout == .seconds(30) && limits.metricsToken == nil && limits.trustedProxies.isEmpty)
        var env = minimal
        env["TRUSTED_PROXIES"] = "10.0.0.0/8, 192.168.1.7, fd00::/8"
        #expect(try AppConfig.load(from: env).limits.trustedProxies.count == 3)

        for (variable, value) in [
            ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"), ("TRUSTED_PROXIES", "10.0.0.0/40"),
            ("AUDIT_EXPORT_PER_WORKSPACE", "3"), ("METRICS_TOKEN", "short"), ("EVENT_WAITERS_PER_PRINCIPAL", "0"),
            ("EVENT_WAITERS_PER_PRINCIPAL", "2000"), ("HTTP_READ_TIMEOUT_SECONDS", "0"), ("AUDIT_EXPORT_IDLE_SECONDS", "x"),
            ("AUTH_FAILURES_BURST", "0"),
        ] {
            var env = minimal
            env[variable] = value
            do {
                _ = try AppConfig.load(from: env)
                Issue.record("\(variable)=\(value) was accepted")
            } catch {
                #expect(error.variable == variable, "\(value)")
            }
        }
    }
}
