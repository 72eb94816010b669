import Actions
import Foundation
import Gate
import GateCore
import Logging
import NIOConcurrencyHelpers
import Persistence
import ServiceLifecycle

struct ExecutorSettings: Sendable {
    /// Jobs this replica runs at once; 0 turns its executor off.
    var concurrency: Int
    /// How often an idle executor looks for work another replica made runnable
    /// (changes on this replica, and approvals anywhere, wake it at once).
    var pollInterval: Duration
    /// How long a claim lasts; an attempt that has not finished by then is assumed
    /// dead with its replica, and the job is claimed again.
    var leaseSeconds: Int
    /// One attempt's time limit; shorter than the lease, so a live attempt never
    /// outlasts its claim.
    var attemptTimeout: Duration
    var maxAttempts: Int
    var backoff: Backoff
    /// Executions one workspace may have running at once, across replicas
    /// (WORKSPACE_MAX_CONCURRENT_EXECUTIONS); nil: no limit.
    var workspaceMaxConcurrent: Int? = nil
}

/// Runs approved and queued jobs (SPEC §4 Execution), in every replica: claims them
/// from Postgres under a lease, checks that they are exactly what was approved and
/// still allowed, performs the action and records the outcome with its audit row.
/// Failed attempts are retried with backoff up to `maxAttempts`, then dead-lettered.
struct JobExecutor: Service {
    let store: ExecutionStore
    let policies: PolicyStore
    let email: any EmailDelivery
    /// The bytes of `gmail.send` files, checked against the approved hashes before sending.
    let attachments: any JobAttachmentReading
    let events: JobEvents
    let settings: ExecutorSettings
    let metrics: ExecutionMetrics
    /// Names this replica's executor in audit rows.
    let name: String
    let logger: Logger
    /// Outcomes finished together are recorded together.
    let outcomes: ExecutionOutcomeBatcher

    init(
        store: ExecutionStore, policies: PolicyStore, email: any EmailDelivery, attachments: any JobAttachmentReading,
        events: JobEvents, settings: ExecutorSettings, metrics: ExecutionMetrics, name: String, logger: Logger
    ) {
        (self.store, self.policies, self.email, self.events) = (store, policies, email, events)
        self.attachments = attachments
        (self.settings, self.metrics, self.name, self.logger) = (settings, metrics, name, logger)
        // Timed like a single record: a batch whose statement never returns must not
        // hold its slot (and every later outcome) for good.
        outcomes = ExecutionOutcomeBatcher(store: store, executor: name) { batch in
            try await withTimeout(workerDatabaseTimeout, dependency: "postgres", batch)
        }
    }

    func run() async throws {
        let (wake, unsubscribe) = events.subscribe(key: JobEvents.runnableKey)
        defer { unsubscribe() }
        let inFlight = NIOLockedValueBox(0)
        let store = self.store
        // On graceful shutdown it stops claiming and lets running attempts finish.
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                var depthUpdated = ContinuousClock.now - .seconds(60)
                // Round-robin across workspaces continues where the last claim stopped.
                var cursor = ""
                var limitReports = LimitReports()
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    let free = settings.concurrency - inFlight.withLockedValue { $0 }
                    if free > 0 {
                        do {
                            // Timed like a request's query: with Postgres unreachable the pool
                            // would hold the claim for a minute, and graceful shutdown with it.
                            // A claim cut short after it committed only delays those jobs
                            // until their lease runs out.
                            let leaseSeconds = settings.leaseSeconds, name = self.name
                            let perWorkspace = settings.workspaceMaxConcurrent, after = cursor
                            let round = try await withTimeout(workerDatabaseTimeout, dependency: "postgres") {
                                try await store.claim(
                                    limit: free, leaseSeconds: leaseSeconds, executor: name, perWorkspaceLimit: perWorkspace,
                                    after: after)
                            }
                            cursor = round.nextCursor ?? cursor
                            for workspace in limitReports.due(round.workspacesAtLimit, now: .now) {
                                logger.notice(
                                    "workspace reached WORKSPACE_MAX_CONCURRENT_EXECUTIONS; its other due jobs wait",
                                    metadata: ["workspace": "\(workspace)", "limit": "\(perWorkspace ?? 0)"])
                            }
                            let claims = round.claims
                            for claim in claims {
                                inFlight.withLockedValue { $0 += 1 }
                                group.addTask {
                                    await execute(claim)
                                    inFlight.withLockedValue { $0 -= 1 }
                                    wake.fire()
                                }
                            }
                            // All slots filled: there may be more; look again when one frees up.
                            if !claims.isEmpty && claims.count == free { continue }
                        } catch {
                            logger.warning("executor claim failed", metadata: ["error": "\(describe(error))"])
                        }
                    }
                    if ContinuousClock.now - depthUpdated > .seconds(5) {
                        depthUpdated = ContinuousClock.now
                        if let depth = try? await withTimeout(workerDatabaseTimeout, dependency: "postgres", { try await store.queueDepth() }) {
                            metrics.queueDepth.set(Int64(depth))
                        }
                    }
                    _ = await wake.wait(for: settings.pollInterval)
                }
            } onGracefulShutdown: {
                wake.fire()
            }
        }
    }

    func execute(_ claim: ExecutionClaim) async {
        let started = ContinuousClock.now
        let action = claim.job.action
        let outcome: ExecutionStore.Outcome
        if claim.attempt > settings.maxAttempts {
            // Every earlier attempt died with its lease (a crash loop): stop trying.
            outcome = .dead(code: "attempts_exhausted", message: "\(settings.maxAttempts) attempts did not finish")
        } else {
            do {
                let (result, task) = try await withTimeout(settings.attemptTimeout, dependency: action) {
                    try await perform(claim)
                }
                outcome = .succeeded(result: result, task: task)
            } catch is CancellationError {
                // Shut down mid-attempt: whatever happened, the lease runs out and the job
                // is claimed again, checking first whether the email already went out.
                logger.notice("execution interrupted by shutdown", metadata: ["job": "\(claim.job.id)"])
                return
            } catch let failure as ExecutionFailure {
                outcome = decide(failure, attempt: claim.attempt)
                if failure.slowsDownCredential { await holdBack(claim.job, for: failure) }
            } catch is DependencyTimeout {
                outcome = decide(
                    // It may have done its work without hearing back: give a provider's
                    // search time to see it before the retry looks.
                    ExecutionFailure.retryable("timeout", "the attempt took longer than \(settings.attemptTimeout)", retryAfter: .seconds(30)),
                    attempt: claim.attempt)
            } catch {
                logger.error("execution failed unexpectedly", metadata: ["job": "\(claim.job.id)", "error": "\(describe(error))"])
                outcome = decide(
                    ExecutionFailure.retryable("internal_error", "unexpected error during execution"),
                    attempt: claim.attempt)
            }
        }
        metrics.duration(action).record(ContinuousClock.now - started)
        do {
            // Timed, so that a query that never answers cannot hold shutdown (see withTimeout).
            if try await outcomes.record(outcome, for: claim) {
                metrics.count(outcome, action: action)
            } else {
                logger.warning("execution outcome not recorded: the lease was lost", metadata: ["job": "\(claim.job.id)"])
            }
        } catch {
            // The lease runs out and the job is claimed again; a send is not repeated
            // (see GmailDelivery), a task is created only with a recorded success.
            logger.error("recording an execution outcome failed", metadata: ["job": "\(claim.job.id)", "error": "\(describe(error))"])
        }
    }

    /// A provider's rate limit on the workspace's credential: the workspace's other due
    /// jobs for the action wait as long as the provider asked (or one backoff step),
    /// instead of each running into the same limit; other workspaces go on. Best effort:
    /// if it cannot be recorded, those jobs run and meet the limit themselves.
    func holdBack(_ job: JobRecord, for failure: ExecutionFailure) async {
        let delay = min(max(failure.retryAfter ?? .zero, settings.backoff.delay(beforeRetry: 1)), settings.backoff.maximum)
        let store = self.store
        do {
            let held = try await withTimeout(workerDatabaseTimeout, dependency: "postgres") {
                try await store.holdBack(workspaceID: job.workspaceID, action: job.action, for: delay)
            }
            logger.notice(
                "provider rate limit on the workspace's credential; its other due jobs for the action wait",
                metadata: [
                    "workspace": "\(job.workspaceID)", "action": "\(job.action)", "code": "\(failure.code)",
                    "held_jobs": "\(held)", "wait_seconds": "\(delay.components.seconds)",
                ])
        } catch {
            logger.warning("holding back a rate-limited workspace's jobs failed", metadata: ["job": "\(job.id)", "error": "\(describe(error))"])
        }
    }

    func decide(_ failure: ExecutionFailure, attempt: Int) -> ExecutionStore.Outcome {
        switch failure.kind {
        case .permanent:
            return .failed(code: failure.code, message: failure.message)
        case .retryable where attempt >= settings.maxAttempts:
            return .dead(code: failure.code, message: "\(failure.message) (after \(attempt) attempts)")
        case .deliveryUnknown:
            return .dead(code: ExecutionStore.deliveryUnknownCode, message: failure.message)
        case .retryable:
            var delay = settings.backoff.delay(beforeRetry: attempt)
            if let asked = failure.retryAfter { delay = min(max(delay, asked), settings.backoff.maximum) }
            return .retry(code: failure.code, message: failure.message, after: delay)
        }
    }

    /// The attempt itself: the params must still hash to what was approved and the
    /// policy must still allow them; then the action runs.
    func perform(_ claim: ExecutionClaim) async throws -> (JSONValue, NewTask?) {
        let job = claim.job
        guard case .success(let validated) = ActionRegistry.validate(action: job.action, params: job.params, form: .stored) else {
            throw ExecutionFailure.permanent("invalid_params", "the stored params are no longer valid")
        }
        let gated = job.expiresAt != nil
        guard validated.payloadHash == job.payloadHash,
            gated ? claim.approvedPayloadHash == validated.payloadHash : claim.approvedPayloadHash == nil
        else {
            throw ExecutionFailure.permanent("payload_hash_mismatch", "the params do not hash to the approved payload_hash; nothing was executed")
        }
        guard let policy = try await policies.find(workspaceID: job.workspaceID, action: job.action), policy.enabled else {
            throw ExecutionFailure.permanent("action_not_allowed", "the workspace's policy no longer allows \(job.action)")
        }
        switch PolicyConstraints.refusal(stored: policy.constraints, of: validated) {
        case .violated(let violation)?:
            throw ExecutionFailure.permanent("constraint_violated", violation)
        case .unreadable?:
            throw ExecutionFailure.permanent("constraint_violated", "the policy's constraints cannot be read; nothing was executed")
        case nil:
            break
        }
        switch validated.typed {
        case .taskCreate(let task):
            let id = SortableID.make(prefix: "tsk")
            let newTask = NewTask(
                id: id, title: task.title, description: task.description, dueAt: task.dueAt, assignee: task.assignee,
                labels: task.labels)
            return (["task_id": .string(id)], newTask)
        case .gmailSend(var message):
            if !message.files.isEmpty {
                let stored = try await attachments.contents(workspaceID: job.workspaceID, jobID: job.id)
                switch message.withContents(stored) {
                case .success(let complete): message = complete
                case .failure(let mismatch):
                    throw ExecutionFailure.permanent(
                        "attachment_mismatch",
                        "\(mismatch.filename) is missing or no longer hashes to the approved SHA-256; nothing was sent")
                }
            }
            // After any earlier attempt the message may already be out: never send twice.
            // Whether one let a send leave is recorded before each send, and survives
            // requeues, which restart the attempt count.
            let store = self.store
            let result = try await email.send(
                message, job: job, attempt: claim.attempt,
                checkAlreadySent: claim.attempt > 1 || claim.leaseRecovered || claim.mayHaveDelivered,
                mayHaveDelivered: claim.mayHaveDelivered,
                beforeSending: {
                    do {
                        try await withTimeout(workerDatabaseTimeout, dependency: "postgres") { try await store.markDeliveryStarted(claim) }
                    } catch ExecutionStoreError.leaseLost {
                        throw ExecutionFailure.retryable("lease_lost", "another executor took the job over; nothing was sent")
                    }
                })
            return (result, nil)
        }
    }
}

/// Which workspaces at their concurrency limit to log: each at most once a minute, so
/// a workspace that stays at its limit is one line a minute, not one per claim.
struct LimitReports {
    static let interval = Duration.seconds(60)
    private var lastReported: [String: ContinuousClock.Instant] = [:]

    mutating func due(_ workspaces: [String], now: ContinuousClock.Instant) -> [String] {
        // Forgets workspaces not reported for an interval: the table stays as small as
        // the set of workspaces at their limit within the last minute.
        lastReported = lastReported.filter { now - $0.value < Self.interval }
        let due = workspaces.filter { lastReported[$0] == nil }
        for workspace in due { lastReported[workspace] = now }
        return due
    }
}

/// How an executor appears in audit rows: `executor@<host>:<pid>/<instance>`.
enum ExecutorName {
    static func make() -> String { "\(process)/\(String(UInt16.random(in: 0...UInt16.max), radix: 16))" }

    private static let process: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
        return "executor@\(host):\(getpid())"
    }()
}
