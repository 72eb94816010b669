import Auth
import Gate
import GateCore
import Synchronization
import Testing

/// Backpressure in the submission use case and the arithmetic behind its answers
/// (the sampling itself: GateAPITests/QueueLimitTests).
@Suite struct QueueBackpressureTests {
    let jobs = InMemoryJobs()
    let claims = InMemoryClaims()
    let audit = InMemoryAudit()
    let agent = Principal(kind: .apiKey, id: "key1", workspaces: ["acme": [.jobsWrite]], actsFor: "ann")

    /// Every workspace named is full.
    struct FullQueues: QueueBackpressure {
        let full: [String: QueueFull]
        func refusal(workspaceID: String) -> QueueFull? { full[workspaceID] }
    }

    func submitJob(full: [String: QueueFull]) -> SubmitJob {
        SubmitJob(
            store: jobs,
            policies: InMemoryPolicies([
                SubmitJobTests.policy("task.create", approval: .auto), SubmitJobTests.policy("gmail.send", approval: .required),
            ]),
            runnable: RunnableJobs(), webhooksEnabled: false, backpressure: FullQueues(full: full))
    }

    func submission(_ body: JSONValue, workspace: String = "acme", key: String) -> JobSubmission {
        JobSubmission(
            workspace: workspace, principal: agent, actor: AuditActor(kind: .apiKey, id: "key1", requestID: "req-1"), body: body,
            idempotencyKey: key)
    }

    let task: JSONValue = ["action": "task.create", "params": ["title": "Call Ann"]]
    let email: JSONValue = ["action": "gmail.send", "params": ["to": ["ann@example.com"], "subject": "Hi", "text": "Hello"]]
    let full = QueueFull(.depth(queued: 110, limit: 100), retryAfterSeconds: 7)

    @Test func anAutomaticJobIntoAFullQueueIsRefusedAuditedAndItsKeyGivenBack() async throws {
        let submit = submitJob(full: ["acme": full])
        do {
            _ = try await submit(submission(task, key: "k1"), claims: claims, audit: audit)
            Issue.record("queued into a full queue")
        } catch let refused as SubmissionRefused {
            #expect(refused.kind == .queueFull(retryAfterSeconds: 7))
            #expect(refused.kind.status == 429)
            #expect(refused.reason == "queue_full" && refused.action == "task.create")
            #expect(refused.detail.contains("100"))
        }
        #expect(jobs.state.withLock { $0.inserts.isEmpty })
        // The key's claim is given back: a retry after Retry-After is a new submission.
        let released = claims.state.withLock { $0.released }
        #expect(released.count == 1 && released.allSatisfy { $0.hasPrefix("token-job") })
        let row = try #require(audit.events.withLock { $0.first })
        #expect(row.action == "job.refused" && row.outcome == .denied)
        #expect(row.details["reason"] == .string("queue_full") && row.details["status"] == .integer(429))
    }

    @Test func gatedJobsAndOtherWorkspacesAreNotHeldBack() async throws {
        let submit = submitJob(full: ["acme": full])
        guard case .created(let gated) = try await submit(submission(email, key: "k2"), claims: claims, audit: audit) else {
            Issue.record("gated job not created")
            return
        }
        #expect(gated.status == .pendingApproval)
        guard case .created(let elsewhere) = try await submit(submission(task, workspace: "other", key: "k3"), claims: claims, audit: audit)
        else {
            Issue.record("other workspace's job not created")
            return
        }
        #expect(elsewhere.status == .queued)
        #expect(audit.events.withLock { $0.isEmpty })
    }

    @Test func aRetryOfAJobAlreadyMadeIsAnsweredWithItEvenWhenTheQueueIsFull() async throws {
        guard case .created(let job) = try await submitJob(full: [:])(submission(task, key: "k4"), claims: claims, audit: audit) else {
            Issue.record("not created")
            return
        }
        claims.state.withLock { $0.next = .done(jobID: job.id) }
        let outcome = try await submitJob(full: ["acme": full])(submission(task, key: "k4"), claims: claims, audit: audit)
        #expect(outcome == .replayed(job))
    }

    // MARK: the limits

    func sample(queued: Int, age: Double = 0) -> WorkspaceQueueSample {
        WorkspaceQueueSample(workspaceID: "acme", queued: queued, oldestQueuedDueSeconds: age, oldestApprovedDueSeconds: 0)
    }

    @Test func depthPastTheLimitIsRefusedWithAWaitFromTheDrainRate() {
        let limits = QueueLimits(maxQueued: 1000, maxAgeSeconds: nil)
        #expect(limits.countCap == 1100)
        #expect(limits.refusal(sample(queued: 1000), drainPerSecond: nil) == nil, "at the limit is not past it")
        // Just past it: no rate yet.
        #expect(limits.refusal(sample(queued: 1001), drainPerSecond: nil)?.retryAfterSeconds == 10)
        // 50 over, draining 20/s: 3 s.
        let refused = limits.refusal(sample(queued: 1050), drainPerSecond: 20)
        #expect(refused?.retryAfterSeconds == 3 && refused?.reason == "queue_full")
        #expect(refused?.limit == .depth(queued: 1050, limit: 1000))
        // Not draining, or counted only to the cap: a longer wait, never past 60 s.
        #expect(limits.refusal(sample(queued: 1050), drainPerSecond: 0)?.retryAfterSeconds == 30)
        #expect(limits.refusal(sample(queued: 1100), drainPerSecond: 500)?.retryAfterSeconds == 30)
        #expect(limits.refusal(sample(queued: 1099), drainPerSecond: 0.5)?.retryAfterSeconds == 60)
    }

    @Test func anOldDueJobIsRefusedOnlyWithAnAgeLimit() {
        #expect(QueueLimits(maxQueued: nil, maxAgeSeconds: nil).refusal(sample(queued: 5, age: 9999), drainPerSecond: nil) == nil)
        #expect(QueueLimits(maxQueued: nil, maxAgeSeconds: nil).countCap == 11_000)
        let limits = QueueLimits(maxQueued: nil, maxAgeSeconds: 300)
        #expect(limits.refusal(sample(queued: 5, age: 299), drainPerSecond: nil) == nil)
        let refused = limits.refusal(sample(queued: 5, age: 301.5), drainPerSecond: nil)
        #expect(refused?.reason == "queue_behind" && refused?.limit == .age(seconds: 301, limit: 300))
    }
}
