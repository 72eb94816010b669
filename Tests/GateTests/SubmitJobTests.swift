import Auth
import Foundation
import Gate
import GateCore
import Testing

/// The submission use case alone, on in-memory stores: what it writes, refuses, audits
/// and claims, whichever front door calls it.
@Suite struct SubmitJobTests {
    let jobs = InMemoryJobs()
    let claims = InMemoryClaims()
    let audit = InMemoryAudit()
    let runnable = RunnableJobs()
    let agent = Principal(kind: .apiKey, id: "key1", workspaces: ["acme": [.jobsWrite]], actsFor: "ann")

    func submitJob(_ policies: [Policy] = [Self.policy("task.create", approval: .auto)], webhooks: Bool = false) -> SubmitJob {
        SubmitJob(store: jobs, policies: InMemoryPolicies(policies), runnable: runnable, webhooksEnabled: webhooks)
    }

    static func policy(_ action: String, approval: Policy.Approval, enabled: Bool = true) -> Policy {
        Policy(action: action, enabled: enabled, approval: approval, approvalTimeoutSeconds: 3600, requiredApprovals: 2, constraints: [:])
    }

    func submission(_ body: JSONValue, key: String? = "k1") -> JobSubmission {
        JobSubmission(
            workspace: "acme", principal: agent, actor: AuditActor(kind: .apiKey, id: "key1", requestID: "req-1"), body: body,
            idempotencyKey: key)
    }

    let task: JSONValue = ["action": "task.create", "params": ["title": "Call Ann"]]

    func refusal(_ body: () async throws -> SubmitJob.Outcome) async -> SubmissionRefused? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? SubmissionRefused
        }
    }

    @Test func anAutomaticJobIsQueuedAndSignalled() async throws {
        guard case .created(let job) = try await submitJob()(submission(task), claims: claims, audit: audit) else {
            Issue.record("not created")
            return
        }
        #expect(job.status == .queued && job.requiredApprovals == 0 && job.actsFor == "ann" && job.submittedBy == "key1")
        #expect(runnable.ids.withLock { $0 } == [job.id])
        // The job id is the one the claim was made for: the claim names it already.
        #expect(claims.state.withLock { $0.completed.isEmpty })
        #expect(jobs.state.withLock { $0.inserts.first?.actor.requestID } == "req-1")
    }

    @Test func aGatedJobWaitsForItsApprovalsAndIsNotSignalled() async throws {
        let submit = submitJob([Self.policy("task.create", approval: .required)])
        guard case .created(let job) = try await submit(submission(task), claims: claims, audit: audit) else {
            Issue.record("not created")
            return
        }
        #expect(job.status == .pendingApproval && job.requiredApprovals == 2 && job.expiresAt != nil)
        #expect(runnable.ids.withLock { $0 }.isEmpty)
    }

    @Test(arguments: [
        (JSONValue.array([]), "malformed_body", 400),
        (["action": "task.create", "params": ["title": "x"], "extra": 1], "unknown_fields", 422),
        (["params": ["title": "x"]], "validation_failed", 422),
        (["action": "task.create", "params": [:]], "validation_failed", 422),
        (["action": "task.create", "params": ["title": "x"], "callback_url": "https://example.com/hook"], "validation_failed", 422),
        (["action": "task.create", "params": ["title": "x"], "client_request_id": "other"], "bad_idempotency_key", 400),
        (["action": "gmail.send", "params": ["to": ["a@example.com"], "subject": "s", "text": "t"]], "action_not_allowed", 403),
    ] as [(JSONValue, String, Int)])
    func refusalsAreAuditedAndWriteNothing(body: JSONValue, reason: String, status: Int) async throws {
        let refused = await refusal { try await submitJob()(submission(body), claims: claims, audit: audit) }
        #expect(refused?.reason == reason)
        #expect(refused?.kind.status == status)
        #expect(audit.reasons == [reason])
        #expect(audit.events.withLock { $0.first?.action } == "job.refused")
        #expect(jobs.state.withLock { $0.inserts.isEmpty })
    }

    @Test func aMissingKeyIsRefused() async throws {
        let refused = await refusal { try await submitJob()(submission(task, key: nil), claims: claims, audit: audit) }
        #expect(refused?.reason == "missing_idempotency_key")
    }

    @Test func aDisabledPolicyRefusesItsAction() async throws {
        let submit = submitJob([Self.policy("task.create", approval: .auto, enabled: false)])
        let refused = await refusal { try await submit(submission(task), claims: claims, audit: audit) }
        #expect(refused?.kind == .forbidden && refused?.reason == "action_disabled")
    }

    @Test func aKeyDoneBeforeReplaysItsJob() async throws {
        guard case .created(let first) = try await submitJob()(submission(task), claims: claims, audit: audit) else { return }
        claims.state.withLock { $0.next = .done(jobID: first.id) }
        #expect(try await submitJob()(submission(task), claims: claims, audit: audit) == .replayed(first))
        #expect(jobs.state.withLock { $0.inserts.count } == 1)
    }

    @Test func aFreshClaimWithoutItsJobIsInFlight() async throws {
        claims.state.withLock { $0.next = .claimedBefore(jobID: "job_elsewhere", fresh: true) }
        await #expect(throws: SubmissionInFlight.self) { try await submitJob()(submission(task), claims: claims, audit: audit) }
        #expect(jobs.state.withLock { $0.inserts.isEmpty })
    }

    @Test func aClaimWithAnotherPayloadIsAKeyReuse() async throws {
        claims.state.withLock { $0.next = .mismatch }
        let refused = await refusal { try await submitJob()(submission(task), claims: claims, audit: audit) }
        #expect(refused?.reason == "idempotency_key_reused" && refused?.kind == .invalid)
    }

    @Test func aFailedInsertGivesTheKeyBack() async throws {
        struct Down: Error {}
        jobs.state.withLock { $0.failInserts = Down() }
        await #expect(throws: Down.self) { try await submitJob()(submission(task), claims: claims, audit: audit) }
        #expect(claims.state.withLock { $0.released.count } == 1)
    }

    /// The claims lost the key (a Redis flush): the store's key still answers, and the
    /// claim is rewritten to name the job that holds the key.
    @Test func theStoreAnswersWhatTheClaimsLost() async throws {
        guard case .created(let first) = try await submitJob()(submission(task), claims: claims, audit: audit) else { return }
        #expect(try await submitJob()(submission(task), claims: claims, audit: audit) == .replayed(first))
        let other: JSONValue = ["action": "task.create", "params": ["title": "Another"]]
        let refused = await refusal { try await submitJob()(submission(other), claims: claims, audit: audit) }
        #expect(refused?.reason == "idempotency_key_reused")
        #expect(claims.state.withLock { $0.completed.map(\.jobID) } == [first.id, first.id])
    }

    @Test func aPurgedKeyIsNeverASecondJob() async throws {
        let hash = ActionRegistryHash.of(task)
        jobs.state.withLock {
            $0.records["k1"] = IdempotencyRecord(
                workspaceID: "acme", idempotencyKey: "k1", payloadHash: hash, jobID: "job_old", jobStatus: "succeeded",
                expiresAt: Date().addingTimeInterval(60))
        }
        let refused = await refusal { try await submitJob()(submission(task), claims: claims, audit: audit) }
        #expect(refused?.kind == .purged(jobID: "job_old", jobStatus: "succeeded"))
        #expect(refused?.kind.status == 410)
        #expect(audit.reasons == ["idempotency_job_purged"])
        #expect(claims.state.withLock { $0.completed.map(\.jobID) } == ["job_old"])
    }
}
