import Gate
import Logging
import Metrics
import NIOConcurrencyHelpers
import Persistence
import PostgresNIO
import ServiceLifecycle

/// Expires pending approvals at their deadline (deny by default). Runs in every
/// replica; `SKIP LOCKED` in the statement makes each expiry happen exactly once.
struct ApprovalExpirySweeper: Service {
    let approvals: ApprovalStore
    let interval: Duration
    let gateMetrics: GateMetrics
    let logger: Logger
    /// How often the pending-approvals gauge is recounted: a count reads every pending
    /// approval, which grows with the queue and is too much for every sweep
    /// (bench/HISTORY.md "Tenth round").
    static let countInterval = Duration.seconds(5)

    func run() async throws {
        let counted = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
        try await runPeriodically(every: interval, logger: logger, task: "expiry sweep") {
            var swept: Int
            repeat {
                swept = try await approvals.expireDue(limit: 100).count
                gateMetrics.expiries.increment(by: swept)
            } while swept == 100
            let now = ContinuousClock.now
            if counted.withLockedValue({ $0.map { now - $0 < Self.countInterval } ?? false }) { return }
            gateMetrics.pendingApprovals.set(Int64(try await approvals.pendingCount()))
            counted.withLockedValue { $0 = now }
        }
    }
}

/// Deletes decided approvals and terminal jobs past APPROVAL_HISTORY_TTL_SECONDS or
/// beyond MAX_APPROVAL_HISTORY per workspace, in small batches. Audit rows stay, and so
/// does each purged key's idempotency record until IDEMPOTENCY_TTL_SECONDS is over.
struct HistoryPurger: Service {
    let jobs: JobStore
    /// Console sign-in links, sessions and identity-provider sign-ins past their end.
    let consoleSessions: ConsoleSessionStore
    let ttlSeconds: Int
    let idempotencyTTLSeconds: Int
    let maxPerWorkspace: Int
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await runPeriodically(every: interval, logger: logger, task: "history purge") {
            let purged = try await jobs.purgeHistory(
                ttlSeconds: ttlSeconds, maxPerWorkspace: maxPerWorkspace, batch: 500, idempotencyTTLSeconds: idempotencyTTLSeconds)
            if purged > 0 { logger.info("history purged", metadata: ["jobs": "\(purged)"]) }
            let ended = try await consoleSessions.purgeEnded(batch: 1000)
            if ended > 0 { logger.info("console sign-ins purged", metadata: ["rows": "\(ended)"]) }
        }
    }
}

/// The loop of every background worker: `work`, then a pause of `interval`, until
/// graceful shutdown. A failure (a database outage, say) is logged and the work
/// simply runs again next time, so workers recover by themselves.
///
/// A pass that has not finished after `passTimeout` (nil: work that runs until it
/// fails, like listening) counts as failed, and shutdown does not wait for a pass:
/// a query on a connection that closed as it was handed out was seen never to answer,
/// not even to its cancellation (see `withTimeout`).
func runPeriodically(
    every interval: Duration, passTimeout: Duration? = .seconds(300), logger: Logger, task: String,
    _ work: @escaping @Sendable () async throws -> Void
) async throws {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            do {
                if let passTimeout {
                    try await withTimeout(passTimeout, dependency: task, work)
                } else {
                    try await abandoningOnCancellation(work)
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("\(task) failed", metadata: ["error": "\(describe(error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}

/// Chains committed audit events (docs/audit.md). Runs in every replica: each
/// workspace is sealed by one session at a time (a per-workspace advisory lock taken
/// with try-lock, so replicas skip a workspace another one is sealing), and inserts
/// never wait for it.
struct AuditSealer: Service {
    let store: AuditStore
    let interval: Duration
    let gateMetrics: GateMetrics
    let logger: Logger

    func run() async throws {
        try await runPeriodically(every: interval, logger: logger, task: "audit seal") {
            let pending = try await store.unsealedByWorkspace()
            var backlog = pending.reduce(0) { $0 + $1.count }
            gateMetrics.auditUnsealed.set(Int64(backlog))
            for (workspace, _) in pending {
                var sealed: Int
                repeat {
                    sealed = try await store.seal(workspaceID: workspace)
                    gateMetrics.auditSealed.increment(by: sealed)
                    backlog = max(0, backlog - max(0, sealed))
                    gateMetrics.auditUnsealed.set(Int64(backlog))
                } while sealed == AuditStore.sealBatch && !Task.isCancelled
            }
        }
    }
}
