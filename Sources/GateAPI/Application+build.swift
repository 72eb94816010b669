import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import Redis

/// The connections and registries one application instance runs on. The
/// executable builds them from `AppConfig`; tests build them against throwaway servers.
struct AppServices: Sendable {
    let postgres: PostgresClient
    let redis: RedisClient
    let metrics: HTTPMetrics

    init(config: AppConfig, logger: Logger) throws {
        postgres = PostgresClient(configuration: config.database, backgroundLogger: logger)
        redis = try RedisClient(configuration: config.redis, logger: logger)
        metrics = HTTPMetrics(registry: PrometheusCollectorRegistry())
    }
}

/// Builds the whole HTTP application; shared by `gate-api serve` and the tests so
/// that what is tested is what runs.
func buildApplication(config: AppConfig, services: AppServices, logger: Logger) -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    // Outermost first: every response, problems included, gets an id and is measured.
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: HTTPMetricsMiddleware(metrics: services.metrics))
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: BodyLimitMiddleware(maxBodyBytes: config.maxBodyBytes))

    HealthController(
        postgres: services.postgres, redis: services.redis, metrics: services.metrics,
        readinessTimeout: .seconds(2)
    ).addRoutes(to: router)

    return Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "GateAPI"),
        services: [services.postgres, services.redis],
        logger: logger
    )
}
