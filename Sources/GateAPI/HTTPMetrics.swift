import Hummingbird
import NIOConcurrencyHelpers
import Prometheus

/// Request counts and latency histograms by method, route template and status,
/// kept in one Prometheus registry per application (so tests do not share counts).
struct HTTPMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    /// The series already made, by label values: the registry builds the metric's name
    /// and looks it up on every `make…` call, once per request otherwise.
    private let series = NIOLockedValueBox<[SeriesKey: (Counter, DurationHistogram)]>([:])

    private struct SeriesKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = SeriesKey(method: method, route: route, status: status)
        let (counter, histogram) = series.withLockedValue { series in
            if let existing = series[key] { return existing }
            let labels = [("method", method), ("route", route), ("status", String(status))]
            let made = (
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        namespace: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests served"),
                    labels: labels),
                registry.makeDurationHistogram(
                    descriptor: MetricNameDescriptor(
                        namespace: "http", metricName: "request_duration", unitName: "seconds", helpText: "HTTP request latency"),
                    labels: labels, buckets: Self.buckets)
            )
            series[key] = made
            return made
        }
        counter.increment()
        histogram.record(duration)
    }
}

/// Records every response (problem responses included) and writes one access-log line.
struct HTTPMetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: HTTPMetrics
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        // Unmatched paths share one label so scanners cannot blow up cardinality.
        let route = context.endpointPath ?? "unmatched"
        // Likewise made-up methods (any token is a valid HTTP method).
        let method = Self.knownMethods.contains(request.method.rawValue) ? request.method.rawValue : "other"
        metrics.record(method: method, route: route, status: response.status.code, duration: elapsed)
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(route),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .stringConvertible(elapsed.milliseconds),
            ])
        return response
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
