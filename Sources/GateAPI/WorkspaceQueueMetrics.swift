import Gate
import NIOConcurrencyHelpers
import Prometheus

/// Per-workspace queue metrics for the workspaces with the deepest queues: depth and the
/// age of the oldest due job. Only the `top` deepest are labelled (a label per workspace
/// would grow with every tenant); a workspace that leaves the top loses its series.
final class WorkspaceQueueMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let top: Int
    private let shown = NIOLockedValueBox<[String: (depth: Gauge, age: Gauge)]>([:])
    private let workspaces: Gauge

    init(registry: PrometheusCollectorRegistry, top: Int = 10) {
        self.registry = registry
        self.top = top
        workspaces = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "workspaces_with_runnable_jobs", unitName: "",
                helpText: "Workspaces with approved or queued jobs"))
    }

    func show(_ samples: [WorkspaceQueueSample]) {
        workspaces.set(Int64(samples.count))
        let deepest = samples.sorted {
            ($0.queued, max($0.oldestQueuedDueSeconds, $0.oldestApprovedDueSeconds), $1.workspaceID)
                > ($1.queued, max($1.oldestQueuedDueSeconds, $1.oldestApprovedDueSeconds), $0.workspaceID)
        }.prefix(top)
        shown.withLockedValue { shown in
            let keep = Set(deepest.map(\.workspaceID))
            for (workspace, gauges) in shown where !keep.contains(workspace) {
                registry.unregisterGauge(gauges.depth)
                registry.unregisterGauge(gauges.age)
                shown[workspace] = nil
            }
            for sample in deepest {
                let gauges = shown[sample.workspaceID] ?? makeGauges(sample.workspaceID)
                gauges.depth.set(Int64(sample.queued))
                gauges.age.set(max(sample.oldestQueuedDueSeconds, sample.oldestApprovedDueSeconds))
                shown[sample.workspaceID] = gauges
            }
        }
    }

    private func makeGauges(_ workspace: String) -> (depth: Gauge, age: Gauge) {
        let labels = [("workspace", workspace)]
        let depth = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "workspace_queued_jobs", unitName: "",
                helpText: "Queued automatic jobs of the workspaces with the deepest queues (counted up to a tenth past WORKSPACE_MAX_QUEUED_JOBS)"),
            labels: labels)
        let age = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "gateapi", metricName: "workspace_oldest_due_job", unitName: "seconds",
                helpText: "How long the oldest due job of the workspaces with the deepest queues has waited"),
            labels: labels)
        return (depth, age)
    }
}
