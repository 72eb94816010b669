import Auth
import GateCore
import Hummingbird
import Logging
import PostgresNIO
import Redis

/// Liveness, readiness and metrics: what an orchestrator and Prometheus poll.
struct HealthController: Sendable {
    let postgres: PostgresClient
    let redis: RedisClient
    let metrics: HTTPMetrics
    let readinessTimeout: Duration
    /// `METRICS_TOKEN`: when set, `/metrics` answers only `Authorization: Bearer <token>`
    /// (its labels name routes and volumes, which are nobody else's business).
    var metricsToken: String? = nil

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health", use: health)
        router.get("/ready", use: ready)
        router.get("/metrics", use: prometheus)
    }

    /// Alive as long as the process answers; touches no dependency, so a database
    /// outage never gets healthy replicas restarted.
    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        Self.json(#"{"status":"ok"}"#)
    }

    /// Pings Postgres and Redis concurrently; 503 names each failing check.
    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> Response {
        let postgres = self.postgres
        let redis = self.redis
        let timeout = readinessTimeout
        async let postgresCheck = Self.check("postgres", logger: context.logger) {
            try await withTimeout(timeout, dependency: "postgres") {
                try await postgres.query("SELECT 1")
                return ()
            }
        }
        async let redisCheck = Self.check("redis", logger: context.logger) {
            try await withTimeout(timeout, dependency: "redis") { try await redis.ping() }
        }
        let checks = await ["postgres": postgresCheck, "redis": redisCheck]
        let failing = checks.filter { $0.value != "ok" }.keys.sorted()
        guard failing.isEmpty else {
            var problem = Problem(.serviceUnavailable, title: "Not Ready", detail: "unavailable: \(failing.joined(separator: ", "))")
            problem.extensions["checks"] = checks
            problem.headers[.retryAfter] = "1"
            throw problem
        }
        return Self.json(#"{"status":"ready","checks":{"postgres":"ok","redis":"ok"}}"#)
    }

    @Sendable func prometheus(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let metricsToken {
            // Digests of both, compared in constant time: nothing about the token leaks, its length included.
            let presented = CanonicalJSON.sha256(.string(AuthenticationMiddleware.credential(in: request) ?? ""))
            guard constantTimeEquals(Array(presented.utf8), Array(CanonicalJSON.sha256(.string(metricsToken)).utf8)) else {
                var problem = Problem(.unauthorized, detail: "/metrics needs the metrics token (METRICS_TOKEN)")
                problem.headers[.wwwAuthenticate] = #"Bearer realm="gateapi-metrics""#
                throw problem
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }

    /// "ok", or "unavailable" after logging why (the reason may name hosts, so it stays in the log).
    private static func check(_ name: String, logger: Logger, _ probe: @Sendable () async throws -> Void) async -> String {
        do {
            try await probe()
            return "ok"
        } catch {
            logger.warning("readiness check failed", metadata: ["check": .string(name), "error": "\(error)"])
            return "unavailable"
        }
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
