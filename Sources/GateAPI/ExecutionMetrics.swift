import Gate
import Persistence
import Prometheus

/// The executors' metrics, in the application's registry.
struct ExecutionMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let queueDepth: Gauge

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        queueDepth = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "execution_queue_depth", unitName: "",
                helpText: "Approved or queued jobs due to run"))
    }

    /// `gateapi_executions_total{action, outcome}`: succeeded, failed, retried, dead;
    /// retries and dead letters also have counters of their own for alerting.
    func count(_ outcome: ExecutionStore.Outcome, action: String) {
        let name: String
        switch outcome {
        case .succeeded: name = "succeeded"
        case .failed: name = "failed"
        case .retry:
            name = "retried"
            counter("execution_retries", help: "Failed attempts scheduled for a retry", action: action).increment()
        case .dead:
            name = "dead"
            counter("dead_letters", help: "Jobs dead-lettered after their last attempt", action: action).increment()
        }
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "executions", unitName: "total", helpText: "Execution attempts by outcome"),
            labels: [("action", action), ("outcome", name)]
        ).increment()
    }

    func duration(_ action: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "execution_duration", unitName: "seconds",
                helpText: "Time one execution attempt took"),
            labels: [("action", action)],
            buckets: [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)])
    }

    private func counter(_ name: String, help: String, action: String) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "gateapi", metricName: name, unitName: "total", helpText: help),
            labels: [("action", action)])
    }
}
