import Prometheus

/// The gate's own metrics, in the application's registry.
struct GateMetrics: Sendable {
    let pendingApprovals: Gauge
    let expiries: Counter
    let decisionLatency: DurationHistogram
    let auditUnsealed: Gauge
    let auditSealed: Counter
    let unauditedDenials: Counter

    init(registry: PrometheusCollectorRegistry) {
        pendingApprovals = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "approvals_pending", unitName: "", helpText: "Approvals waiting for a decision"))
        expiries = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "approvals_expired", unitName: "total",
                helpText: "Approvals expired by this replica"))
        decisionLatency = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "approval_decision_latency", unitName: "seconds",
                helpText: "Time from approval request to decision"),
            buckets: [.seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(1800), .seconds(3600), .seconds(14400), .seconds(86400)])
        auditUnsealed = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "audit_unsealed", unitName: "",
                helpText: "Committed audit events not yet hash-chained"))
        auditSealed = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "audit_sealed", unitName: "total",
                helpText: "Audit events chained by this replica's background sealer"))
        unauditedDenials = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "auth_denials_unaudited", unitName: "total",
                helpText: "Failed authentications and requests to foreign workspaces not written to the audit log (over AUTH_DENIAL_AUDIT_PER_MINUTE for their address or principal)"))
    }
}

extension Counter {
    func increment(by amount: Int) {
        if amount > 0 { increment(by: Int64(amount)) }
    }
}
