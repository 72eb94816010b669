import Gate
import GateCore
import Logging
import NIOConcurrencyHelpers
import Persistence
import ServiceLifecycle

/// Samples every workspace's queue each `interval`: what `QueuePressureBoard` answers
/// submissions with (backpressure), the per-workspace queue metrics, and a log line when
/// a workspace goes past a limit or back under it. Runs in every serving replica, since
/// each answers from its own board; a replica's board lags Postgres by up to one
/// interval, so a workspace can pass its limit by what it submits in that time.
struct QueueSampler: Service {
    let store: ExecutionStore
    let limits: QueueLimits
    let board: QueuePressureBoard
    let metrics: WorkspaceQueueMetrics
    let interval: Duration
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        let history = NIOLockedValueBox(QueueHistory())
        try await runPeriodically(every: interval, passTimeout: timeout, logger: logger, task: "queue sample") {
            let samples = try await store.sampleQueues(cap: limits.countCap)
            let now = ContinuousClock.now
            let (refusals, changes) = history.withLockedValue { $0.record(samples, at: now, limits: limits) }
            board.publish(refusals)
            metrics.show(samples)
            for change in changes { log(change) }
        }
    }

    private func log(_ change: QueueHistory.Change) {
        switch change {
        case .refused(let workspace, let full):
            logger.notice(
                "workspace queue past its limit; automatic submissions are refused with 429",
                metadata: ["workspace": "\(workspace)", "reason": "\(full.reason)", "detail": "\(full.detail)"])
        case .accepted(let workspace):
            logger.notice("workspace queue back under its limit; automatic submissions are taken again", metadata: ["workspace": "\(workspace)"])
        }
    }
}

/// What the sampler remembers between samples: each workspace's previous depth (for the
/// drain rate behind `Retry-After`) and which workspaces were refused (to log changes).
struct QueueHistory: Sendable {
    enum Change: Equatable {
        case refused(String, QueueFull)
        case accepted(String)
    }

    private var previous: [String: (queued: Int, at: ContinuousClock.Instant)] = [:]
    private var refused: [String: QueueFull] = [:]

    mutating func record(_ samples: [WorkspaceQueueSample], at now: ContinuousClock.Instant, limits: QueueLimits)
        -> (refusals: [String: QueueFull], changes: [Change])
    {
        var refusals: [String: QueueFull] = [:]
        var next: [String: (queued: Int, at: ContinuousClock.Instant)] = [:]
        for sample in samples {
            var drain: Double?
            // A rate only from a sample that was already over the limit: while refused,
            // the queue shrinks by what the executors take.
            if refused[sample.workspaceID] != nil, let before = previous[sample.workspaceID] {
                let seconds = (now - before.at).seconds
                if seconds > 0 { drain = Double(before.queued - sample.queued) / seconds }
            }
            if let full = limits.refusal(sample, drainPerSecond: drain) { refusals[sample.workspaceID] = full }
            next[sample.workspaceID] = (sample.queued, now)
        }
        var changes: [Change] = []
        for (workspace, full) in refusals.sorted(by: { $0.key < $1.key }) where refused[workspace]?.reason != full.reason {
            changes.append(.refused(workspace, full))
        }
        for workspace in refused.keys.sorted() where refusals[workspace] == nil { changes.append(.accepted(workspace)) }
        previous = next
        refused = refusals
        return (refusals, changes)
    }
}
