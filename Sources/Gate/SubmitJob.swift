import Actions
import Approvals
import Auth
import Foundation
import GateCore

/// What a caller submitted, as a front door received it: the JSON body and the
/// `Idempotency-Key` it sent (REST: the header; elsewhere the front door's own field).
public struct JobSubmission: Sendable {
    public var workspace: String
    public var principal: Principal
    /// Who asked, from where, in which request: the actor of every audit row it causes.
    public var actor: AuditActor
    public var body: JSONValue
    public var idempotencyKey: String?

    public init(workspace: String, principal: Principal, actor: AuditActor, body: JSONValue, idempotencyKey: String?) {
        self.workspace = workspace
        self.principal = principal
        self.actor = actor
        self.body = body
        self.idempotencyKey = idempotencyKey
    }
}

/// Submitting a job (SPEC §4): validate → the workspace's policy → claim the
/// Idempotency-Key → one atomic insert with its audit rows → tell the executors.
/// Every refusal is audited (`job.refused`) before it is thrown as `SubmissionRefused`.
/// A retry with the same key and payload is answered with the job the key made; a key
/// whose job was purged from history is never made into a second job.
public struct SubmitJob: Sendable {
    public enum Outcome: Sendable, Equatable {
        case created(JobRecord)
        /// The key's job, made by an earlier request with the same payload.
        case replayed(JobRecord)
    }

    public static let bodyFields: Set<String> = ["action", "params", "callback_url", "client_request_id"]

    let store: any JobSubmissionStore
    let policies: any PolicyLookup
    let runnable: any RunnableJobSignal
    /// Whether callbacks can be delivered (the server has a webhook secret).
    let webhooksEnabled: Bool
    /// Whether the workspace's automatic queue takes more (gated jobs are always taken).
    let backpressure: any QueueBackpressure

    public init(
        store: any JobSubmissionStore, policies: any PolicyLookup, runnable: any RunnableJobSignal, webhooksEnabled: Bool,
        backpressure: any QueueBackpressure = UnlimitedQueues()
    ) {
        self.store = store
        self.policies = policies
        self.runnable = runnable
        self.webhooksEnabled = webhooksEnabled
        self.backpressure = backpressure
    }

    /// `claims` and `audit` belong to the request (they take its deferred rate-limit charge).
    public func callAsFunction(_ submission: JobSubmission, claims: any IdempotencyClaims, audit: any AuditTrail)
        async throws -> Outcome
    {
        let refusals = Refusals(submission: submission, audit: audit)
        let request = try await validate(submission, refusals: refusals)
        let policy = try await allowedPolicy(for: request.action, in: submission.workspace, refusals: refusals)
        let workspace = submission.workspace, key = request.key, hash = request.action.payloadHash
        let jobID = SortableID.make(prefix: "job")
        let claim = try await claims.claim(workspace: workspace, key: key, payloadHash: hash, jobID: jobID)
        if let answer = try await answer(claim, request, workspace: workspace, claims: claims, refusals: refusals) {
            return answer
        }
        // After the key's answer, so that a retry of a job already made is still
        // answered with it; before the insert, so that a refusal leaves nothing queued.
        if policy.approval != .required, let full = backpressure.refusal(workspaceID: workspace) {
            await giveBack(claim, workspace: workspace, key: key, claims: claims)
            throw try await refusals(
                .queueFull(retryAfterSeconds: full.retryAfterSeconds), reason: full.reason, detail: full.detail,
                action: request.action.action.rawValue)
        }
        let insert = JobInsert(
            Self.newJob(request, policy: policy, submission: submission), id: jobID, actor: submission.actor,
            files: request.action.contents)
        let outcome: JobInsertOutcome
        do {
            outcome = try await store.insert(insert)
        } catch {
            // Nothing was written: give the key back so the client's retry is not told "in flight".
            await giveBack(claim, workspace: workspace, key: key, claims: claims)
            throw error
        }
        switch outcome {
        case .created(let job):
            // Our own claim already names this job; any other (stale) claim is replaced.
            if case .claimed = claim {} else {
                await claims.complete(workspace: workspace, key: key, payloadHash: job.payloadHash, jobID: job.id)
            }
            if job.status == .queued { runnable.jobBecameRunnable(job) }
            if job.status == .pendingApproval { runnable.jobAwaitsApproval(job) }
            return .created(job)
        case .existing(let job):
            // The claim now names the job that holds the key, whatever this request
            // claimed: a refused retry must not leave its own payload there (the claims
            // lost the first one), or the original payload's retries would be refused next.
            await claims.complete(workspace: workspace, key: key, payloadHash: job.payloadHash, jobID: job.id)
            guard job.payloadHash == hash else { throw try await refusals.keyReused(request.action.action.rawValue) }
            return .replayed(job)
        case .purged(let record):
            throw try await refusals.purged(record, request, claims: claims)
        }
    }

    /// Releases the key if this request claimed it (a claim of another request, or a
    /// stale one, is not this request's to release).
    private func giveBack(_ claim: IdempotencyClaim, workspace: String, key: String, claims: any IdempotencyClaims) async {
        if case .claimed(let token) = claim { await claims.release(workspace: workspace, key: key, token: token) }
    }

    /// A submission that passed validation.
    struct ValidRequest {
        var key: String
        var action: ValidatedAction
        var callbackURL: String?
    }

    /// What an earlier claim on the key answers, or nil when this request goes on to insert.
    private func answer(
        _ claim: IdempotencyClaim, _ request: ValidRequest, workspace: String, claims: any IdempotencyClaims, refusals: Refusals
    ) async throws -> Outcome? {
        switch claim {
        case .mismatch:
            throw try await refusals.keyReused(request.action.action.rawValue)
        case .done(let existingID), .claimedBefore(jobID: let existingID?, fresh: _):
            if let job = try await store.find(workspaceID: workspace, id: existingID) { return .replayed(job) }
            guard case .claimedBefore(_, fresh: true) = claim else { return nil }
            // Not in flight after all if its job was made and already purged.
            if let record = try await store.idempotencyRecord(workspaceID: workspace, idempotencyKey: request.key) {
                throw try await refusals.purged(record, request, claims: claims)
            }
            throw SubmissionInFlight()
        case .claimedBefore(jobID: nil, fresh: true):
            throw SubmissionInFlight()
        case .claimed, .claimedBefore(jobID: nil, fresh: false):
            return nil
        }
    }

    /// The gate: no policy, or a disabled one, means the action may not run here; a
    /// policy's constraints must hold for these params.
    private func allowedPolicy(for request: ValidatedAction, in workspace: String, refusals: Refusals) async throws -> Policy {
        let action = request.action.rawValue
        let policy = try await policies.find(workspaceID: workspace, action: action)
        guard let policy, policy.enabled else {
            throw try await refusals(
                .forbidden, reason: policy == nil ? "action_not_allowed" : "action_disabled",
                detail: "\(action) is not allowed in this workspace", action: action)
        }
        switch PolicyConstraints.refusal(stored: policy.constraints, of: request) {
        case .violated(let violation)?:
            let file = PolicyConstraints.violatingFile(stored: policy.constraints, of: request, violation: violation).map {
                RefusedFile(filename: $0.filename, contentType: $0.contentType, problem: violation)
            }
            throw try await refusals(
                .forbidden, reason: "policy_constraint", detail: violation, action: action, files: file.map { [$0] } ?? [])
        case .unreadable?:
            throw try await refusals(
                .forbidden, reason: "policy_constraint",
                detail: "the policy's constraints for \(action) cannot be read; an admin must set them again", action: action)
        case nil:
            return policy
        }
    }

    static func newJob(_ request: ValidRequest, policy: Policy, submission: JobSubmission) -> NewJob {
        let gated = policy.approval == .required
        return NewJob(
            workspaceID: submission.workspace, action: request.action.action.rawValue, params: request.action.params,
            payloadHash: request.action.payloadHash, status: gated ? .pendingApproval : .queued, idempotencyKey: request.key,
            submittedByType: submission.principal.kind.rawValue, submittedBy: submission.principal.id,
            actsFor: submission.principal.actsFor, callbackURL: request.callbackURL,
            requiredApprovals: gated ? policy.requiredApprovals : 0,
            approvalTimeoutSeconds: gated ? policy.approvalTimeoutSeconds : nil, approverRules: gated ? policy.approvers : [])
    }
}
