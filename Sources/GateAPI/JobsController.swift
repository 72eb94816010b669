import Actions
import Approvals
import Auth
import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird
import Persistence
import ServiceLifecycle

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}

/// `/v1/workspaces/{ws}/jobs`: submission (validate → policy → idempotency → one
/// atomic insert with its audit row), reading and listing.
struct JobsController: Sendable {
    let jobs: JobStore
    let inserts: JobInsertBatcher
    let lookups: JobLookupBatcher
    let approvals: ApprovalStore
    let events: JobEvents
    /// Event streams and long-polls open at once, per replica and per principal.
    let waiters: ConcurrencyLimit
    let policies: CachedPolicyLookup
    let idempotency: IdempotencyGuard
    /// Whether WEBHOOK_SECRET is set: callbacks are never sent unsigned.
    let webhooksEnabled: Bool
    let audit: SecurityAudit
    let timeout: Duration

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let write = workspace.group("jobs").add(middleware: RequireScope(.jobsWrite, audit: audit))
        write.post(use: submit)
        write.post("{id}/cancel", use: cancel)
        let read = workspace.group("jobs").add(middleware: RequireScope(.jobsRead, audit: audit))
        read.get(use: list)
        read.get("{id}", use: get)
        read.get("{id}/events", use: stream)
    }

    static let bodyFields: Set<String> = ["action", "params", "callback_url", "client_request_id"]

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.parameters.require("ws")
        let refuse = Refusal(audit: audit, workspace: workspace, principal: principal, request: request, context: context)

        guard case .object(let body) = try await request.decodeJSON(as: JSONValue.self, context: context) else {
            throw try await refuse(.badRequest, reason: "malformed_body", detail: "the body must be a JSON object")
        }
        let unknown = body.keys.filter { !Self.bodyFields.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw try await refuse(
                .unprocessableContent, reason: "unknown_fields", detail: "unknown fields: \(unknown.joined(separator: ", "))",
                errors: unknown.map { FieldError(field: $0, message: "is not a known field") })
        }
        let key = try await idempotencyKey(request: request, body: body, refuse: refuse)
        guard case .string(let actionName)? = body["action"] else {
            throw try await refuse(
                .unprocessableContent, reason: "validation_failed", detail: "action is required",
                errors: [FieldError(field: "action", message: "is required and must be a string")])
        }
        var callbackURL: String?
        switch body["callback_url"] {
        case nil, .null?: break
        case .string? where !webhooksEnabled:
            throw try await refuse(
                .unprocessableContent, reason: "validation_failed", detail: "this server does not deliver webhooks (WEBHOOK_SECRET is not set)",
                errors: [FieldError(field: "callback_url", message: "is not supported by this server")])
        case .string(let url)? where CallbackURL.isAcceptable(url): callbackURL = url
        default:
            throw try await refuse(
                .unprocessableContent, reason: "validation_failed", detail: "callback_url must be an http(s) URL",
                errors: [FieldError(field: "callback_url", message: "must be an absolute http or https URL of at most 2048 characters")])
        }
        let validated: ValidatedAction
        switch ActionRegistry.validate(action: actionName, params: body["params"] ?? .null) {
        case .success(let action): validated = action
        case .failure(let failure):
            throw try await refuse(
                .unprocessableContent, reason: "validation_failed",
                detail: failure.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "), errors: failure.errors,
                action: actionName)
        }

        // The gate: no policy, or a disabled one, means the action may not run here.
        // Timed on a cache miss only (see AppServices).
        let policy = try await policies.find(workspaceID: workspace, action: validated.action.rawValue)
        guard let policy, policy.enabled else {
            throw try await refuse(
                .forbidden, reason: policy == nil ? "action_not_allowed" : "action_disabled",
                detail: "\(validated.action.rawValue) is not allowed in this workspace", action: actionName)
        }
        switch PolicyConstraints.refusal(stored: policy.constraints, of: validated) {
        case .violated(let violation)?:
            throw try await refuse(.forbidden, reason: "policy_constraint", detail: violation, action: actionName)
        case .unreadable?:
            throw try await refuse(
                .forbidden, reason: "policy_constraint",
                detail: "the policy's constraints for \(validated.action.rawValue) cannot be read; an admin must set them again",
                action: actionName)
        case nil:
            break
        }

        let jobID = SortableID.make(prefix: "job")
        let claim = try await idempotency.claim(
            workspace: workspace, key: key, payloadHash: validated.payloadHash, jobID: jobID, charging: context.rateLimit)
        let lookups = self.lookups
        switch claim {
        case .mismatch:
            throw try await refuse(
                .unprocessableContent, reason: "idempotency_key_reused",
                detail: "Idempotency-Key was already used with a different payload", action: actionName)
        case .done(let existingID), .claimedBefore(jobID: let existingID?, fresh: _):
            if let job = try await withTimeout(timeout, dependency: "postgres", { try await lookups.find(workspaceID: workspace, id: existingID) }) {
                return try replay(job, request: request, context: context)
            }
            if case .claimedBefore(_, fresh: true) = claim {
                // Not in flight after all if its job was made and already purged.
                let jobs = self.jobs
                if let record = try await withTimeout(timeout, dependency: "postgres", {
                    try await jobs.idempotencyRecord(workspaceID: workspace, idempotencyKey: key)
                }) {
                    throw try await answer(record, key: key, payloadHash: validated.payloadHash, refuse: refuse, action: actionName)
                }
                throw Self.inFlight
            }
        case .claimedBefore(jobID: nil, fresh: true):
            throw Self.inFlight
        case .claimed, .claimedBefore(jobID: nil, fresh: false):
            break
        }

        let gated = policy.approval == .required
        let newJob = NewJob(
            workspaceID: workspace, action: validated.action.rawValue, params: validated.params,
            payloadHash: validated.payloadHash, status: gated ? .pendingApproval : .queued, idempotencyKey: key,
            submittedByType: principal.kind.rawValue, submittedBy: principal.id, actsFor: principal.actsFor,
            callbackURL: callbackURL, requiredApprovals: gated ? policy.requiredApprovals : 0,
            approvalTimeoutSeconds: gated ? policy.approvalTimeoutSeconds : nil)
        let insert = JobInsert(newJob, id: jobID, actor: SecurityAudit.actor(principal, context: context))
        let inserts = self.inserts
        let outcome: JobStore.InsertOutcome
        do {
            outcome = try await withTimeout(timeout, dependency: "postgres") { try await inserts.insert(insert) }
        } catch {
            // Nothing was written: give the key back so the client's retry is not told "in flight".
            if case .claimed(let token) = claim { await idempotency.release(workspace: workspace, key: key, token: token) }
            throw error
        }
        switch outcome {
        case .created(let job):
            // Our own claim already names this job; any other (stale) claim is replaced.
            if case .claimed = claim {} else {
                await markDone(workspace: workspace, key: key, payloadHash: job.payloadHash, jobID: job.id, context: context)
            }
            // This replica's executors start at once; the others find it when they next poll.
            if job.status == .queued { events.publish(JobEvents.runnableKey) }
            return try JSONResponse(
                status: .created, body: JobView(job), headers: [.location: "/v1/workspaces/\(workspace)/jobs/\(job.id)"]
            ).response(from: request, context: context)
        case .existing(let job):
            // The key's claim now names the job that holds the key, whatever this request
            // claimed: a refused retry must not leave its own payload there (Redis lost the
            // first claim), or the original payload's retries would be refused next.
            await markDone(workspace: workspace, key: key, payloadHash: job.payloadHash, jobID: job.id, context: context)
            guard job.payloadHash == validated.payloadHash else {
                throw try await refuse(
                    .unprocessableContent, reason: "idempotency_key_reused",
                    detail: "Idempotency-Key was already used with a different payload", action: actionName)
            }
            return try replay(job, request: request, context: context)
        case .purged(let record):
            throw try await answer(record, key: key, payloadHash: validated.payloadHash, refuse: refuse, action: actionName)
        }
    }

    /// A retry whose job the history purge deleted while the key was still within
    /// IDEMPOTENCY_TTL_SECONDS: 410, naming the job and how it ended (422 for another
    /// payload). Never a new job: the first request's action ran (or was decided) already.
    private func answer(
        _ record: IdempotencyRecord, key: String, payloadHash: String, refuse: Refusal, action: String
    ) async throws -> Problem {
        await markDone(
            workspace: record.workspaceID, key: key, payloadHash: record.payloadHash, jobID: record.jobID, context: refuse.context)
        guard record.payloadHash == payloadHash else {
            return try await refuse(
                .unprocessableContent, reason: "idempotency_key_reused",
                detail: "Idempotency-Key was already used with a different payload", action: action)
        }
        var problem = try await refuse(
            .gone, reason: "idempotency_job_purged",
            detail: "this Idempotency-Key created job \(record.jobID), which ended \(record.jobStatus) and has since been "
                + "removed from the job history; it is not created again",
            action: action)
        problem.extensions["job_id"] = record.jobID
        problem.extensions["job_status"] = record.jobStatus
        problem.headers[.idempotentReplayed] = "true"
        return problem
    }

    private static var inFlight: Problem {
        var problem = Problem(.conflict, detail: "a request with this Idempotency-Key is still in progress; retry shortly")
        problem.headers[.retryAfter] = "1"
        return problem
    }

    private func replay(_ job: JobRecord, request: Request, context: AppRequestContext) throws -> Response {
        try JSONResponse(status: .ok, body: JobView(job), headers: [.idempotentReplayed: "true"])
            .response(from: request, context: context)
    }

    /// Best effort: if Redis misses this, the claim goes stale and Postgres answers retries.
    private func markDone(workspace: String, key: String, payloadHash: String, jobID: String, context: AppRequestContext) async {
        do {
            try await idempotency.complete(workspace: workspace, key: key, payloadHash: payloadHash, jobID: jobID)
        } catch {
            context.logger.warning("idempotency key not marked done", metadata: ["job_id": .string(jobID), "error": "\(error)"])
        }
    }

    /// `Idempotency-Key` (1–255 printable ASCII characters), or `client_request_id` in the body.
    private func idempotencyKey(request: Request, body: [String: JSONValue], refuse: Refusal) async throws -> String {
        let header = request.headers[.idempotencyKey]
        var alias: String?
        switch body["client_request_id"] {
        case nil, .null?: break
        case .string(let value)?: alias = value
        default:
            throw try await refuse(.badRequest, reason: "bad_idempotency_key", detail: "client_request_id must be a string")
        }
        if let header, let alias, header != alias {
            throw try await refuse(
                .badRequest, reason: "bad_idempotency_key", detail: "Idempotency-Key and client_request_id differ")
        }
        guard let key = header ?? alias else {
            throw try await refuse(.badRequest, reason: "missing_idempotency_key", detail: "the Idempotency-Key header is required")
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
            throw try await refuse(
                .badRequest, reason: "bad_idempotency_key", detail: "Idempotency-Key must be 1 to 255 printable ASCII characters")
        }
        return key
    }

    /// The job; with `?wait=N` (at most 60) the answer waits until the job leaves the
    /// status it had (or the one given as `?status=`), or N seconds pass.
    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<JobView> {
        let workspace = try context.parameters.require("ws")
        let id = try context.parameters.require("id")
        let query = request.uri.queryParameters
        var wait = 0
        if let raw = query.get("wait") {
            guard let seconds = Int(raw), (0...60).contains(seconds) else {
                throw Problem(.badRequest, detail: "wait must be a whole number of seconds from 0 to 60")
            }
            wait = seconds
        }
        var known: JobStatus?
        if let raw = query.get("status") {
            guard let status = JobStatus(rawValue: raw) else { throw Problem(.badRequest, detail: "unknown status \(raw)") }
            known = status
        }
        // Held until the answer: each waiter is a task (and a connection) of this replica.
        let slot = wait > 0 ? try waiterSlot(context) : nil
        defer { withExtendedLifetime(slot) {} }
        // Subscribe before reading, so a change between the read and the wait is not missed.
        let subscription = wait > 0 ? events.subscribe(workspace: workspace, job: id) : nil
        defer { subscription?.cancel() }
        var job = try await load(workspace: workspace, id: id)
        subscription?.signal.saw(updatedAt: job.updatedAt)
        let baseline = known ?? job.status
        guard let subscription, job.status == baseline, !job.status.isTerminal else { return JSONResponse(body: JobView(job)) }
        let deadline = ContinuousClock.now + .seconds(wait)
        while job.status == baseline, ContinuousClock.now < deadline, !Task.isShuttingDownGracefully {
            // Woken by a notification, or by the replica's shared re-read (JobEventsResync)
            // if one was lost: an idle long-poll sends Postgres nothing of its own.
            guard await Self.waitForChange(subscription.signal, upTo: deadline - ContinuousClock.now) else { continue }
            job = try await load(workspace: workspace, id: id)
            subscription.signal.saw(updatedAt: job.updatedAt)
        }
        return JSONResponse(body: JobView(job))
    }

    func load(workspace: String, id: String) async throws -> JobRecord {
        guard SortableID.isWellFormed(id, prefix: "job") else { throw Problem(.notFound, detail: "no job \(id) in this workspace") }
        let lookups = self.lookups
        guard let job = try await withTimeout(timeout, dependency: "postgres", { try await lookups.find(workspaceID: workspace, id: id) })
        else { throw Problem(.notFound, detail: "no job \(id) in this workspace") }
        return job
    }

    /// Cancels a pending job: its submitter, or an admin (`policies:admin`). Idempotent.
    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<JobView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.parameters.require("ws")
        let id = try context.parameters.require("id")
        guard SortableID.isWellFormed(id, prefix: "job") else { throw Problem(.notFound, detail: "no job \(id) in this workspace") }
        let approvals = self.approvals
        let actor = SecurityAudit.actor(principal, context: context)
        let isAdmin = principal.has(.policiesAdmin, in: workspace)
        let outcome = try await withTimeout(timeout, dependency: "postgres") {
            try await approvals.cancel(
                workspaceID: workspace, jobID: id, by: "\(principal.kind.rawValue):\(principal.id)", isAdmin: isAdmin, actor: actor)
        }
        switch outcome {
        case nil: throw Problem(.notFound, detail: "no job \(id) in this workspace")
        case .cancelled(let job)?, .alreadyCancelled(let job)?: return JSONResponse(body: JobView(job))
        case .notCancellable(let job)?: throw Problem(.conflict, detail: "the job is \(job.status.rawValue); only a job pending approval can be cancelled")
        case .notAllowed?:
            try await audit.record(
                workspace: workspace, action: "job.cancel_refused", principal: principal, targetType: "job", targetID: id,
                details: ["reason": "not_submitter"], context: context)
            throw Problem(.forbidden, detail: "only the submitter or an admin (policies:admin) can cancel this job")
        }
    }

    /// Newest first; filters `status` and `action`; `cursor` is the previous page's `next_cursor`.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<JobView>> {
        let workspace = try context.parameters.require("ws")
        let query = request.uri.queryParameters
        let limit = try Pagination.limit(request)
        var status: JobStatus?
        if let raw = query.get("status") {
            guard let parsed = JobStatus(rawValue: raw) else {
                throw Problem(.badRequest, detail: "status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        let action = query.get("action")
        if let action, ActionName(rawValue: action) == nil { throw Problem(.badRequest, detail: "unknown action \(action)") }
        let cursor = try Pagination.cursor(request, idPrefix: "job")
        let jobs = self.jobs
        let filter = status
        let records = try await withTimeout(timeout, dependency: "postgres") {
            try await jobs.list(workspaceID: workspace, status: filter, action: action, before: cursor, limit: limit + 1)
        }
        return JSONResponse(body: Page(records, limit: limit, cursor: \.id, view: JobView.init))
    }
}

/// A submission refused with a 4xx: the audit row first (`job.refused`, with the
/// reason and the names of bad fields, never their values), then the problem.
struct Refusal {
    let audit: SecurityAudit
    let workspace: String
    let principal: Principal
    let request: Request
    let context: AppRequestContext

    func callAsFunction(
        _ status: HTTPResponse.Status, reason: String, detail: String, errors: [FieldError] = [], action: String? = nil
    ) async throws -> Problem {
        var details: [String: JSONValue] = ["reason": .string(reason), "status": .integer(status.code)]
        if let action { details["action"] = .string(action) }
        if !errors.isEmpty { details["fields"] = .array(errors.map { .string($0.field) }) }
        try await audit.record(
            workspace: workspace, action: "job.refused", principal: principal, targetType: "job", targetID: nil,
            details: details, context: context)
        var problem = Problem(status, title: errors.isEmpty ? nil : "Validation Failed", detail: detail)
        if !errors.isEmpty { problem.extensions["errors"] = errors.map { ["field": $0.field, "message": $0.message] } }
        return problem
    }
}

enum CallbackURL {
    /// Absolute http(s) with a host; where it may point (private addresses) is checked at delivery.
    static func isAcceptable(_ text: String) -> Bool {
        guard text.utf8.count <= 2048, let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty, url.user == nil
        else { return false }
        return true
    }
}
