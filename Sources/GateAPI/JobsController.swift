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

/// `/v1/workspaces/{ws}/jobs`: submission (the `SubmitJob` use case), reading, waiting
/// for a change, cancelling and listing.
struct JobsController: Sendable {
    let jobs: TimedJobReads
    let events: JobEvents
    /// Event streams and long-polls open at once, per replica and per principal.
    let waiters: ConcurrencyLimit
    let submitJob: SubmitJob
    let cancelJob: CancelJob
    let idempotency: IdempotencyGuard
    let audit: SecurityAudit
    let largeBodies: LargeBodies

    /// Bodies over `MAX_BODY_BYTES` (submissions with files) are read a few at a time,
    /// so their memory stays bounded: a declared one past the free slots gets 503 with
    /// `Retry-After`; a chunked one without a slot is held to `MAX_BODY_BYTES`.
    struct LargeBodies: Sendable {
        let slots: ConcurrencyLimit
        let smallBodyBytes: Int

        /// A slot for a body of `declared` bytes (nil: chunked), or nil when it needs
        /// none; lowers `maxUploadSize` for a chunked body that gets none.
        func reserve(declared: Int?, maxUploadSize: inout Int) throws -> ConcurrencyLimit.Slot? {
            if let declared, declared <= smallBodyBytes { return nil }
            if let slot = slots.acquire() { return slot }
            guard declared == nil else {
                var problem = Problem(
                    .serviceUnavailable,
                    detail: "too many large submissions are being received at once; retry shortly")
                problem.headers[.retryAfter] = "2"
                throw problem
            }
            maxUploadSize = min(maxUploadSize, smallBodyBytes)
            return nil
        }
    }

    /// `submissions` defers its rate-limit charge to the idempotency claim.
    func addRoutes(to workspace: RouterGroup<AppRequestContext>, submissions: RouterGroup<AppRequestContext>) {
        submissions.group("jobs").add(middleware: RequireScope(.jobsWrite, audit: audit)).post(use: submit)
        let write = workspace.group("jobs").add(middleware: RequireScope(.jobsWrite, audit: audit))
        write.post("{id}/cancel", use: cancel)
        let read = workspace.group("jobs").add(middleware: RequireScope(.jobsRead, audit: audit))
        read.get(use: list)
        read.get("{id}", use: get)
        read.get("{id}/events", use: stream)
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        var context = context
        let slot = try largeBodies.reserve(
            declared: request.headers[.contentLength].flatMap(Int.init), maxUploadSize: &context.maxUploadSize)
        let submission = JobSubmission(
            workspace: workspace, principal: principal, actor: SecurityAudit.actor(principal, context: context),
            body: try await request.decodeJSON(as: JSONValue.self, context: context),
            idempotencyKey: request.headers[.idempotencyKey])
        // Held until the submission is stored: its bytes are in memory until then.
        defer { withExtendedLifetime(slot) {} }
        let claims = ChargedIdempotencyClaims(keys: idempotency, charge: context.rateLimit, logger: context.logger)
        switch try await Self.rendering({
            try await submitJob(submission, claims: claims, audit: RequestAuditTrail(audit: audit, context: context))
        }) {
        case .created(let job):
            return try JSONResponse(
                status: .created, body: JobView(job), headers: [.location: "/v1/workspaces/\(workspace)/jobs/\(job.id)"]
            ).response(from: request, context: context)
        case .replayed(let job):
            return try JSONResponse(status: .ok, body: JobView(job), headers: [.idempotentReplayed: "true"])
                .response(from: request, context: context)
        }
    }

    /// The use case's refusals as problems.
    static func rendering<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let refused as SubmissionRefused {
            throw Problem(refused)
        } catch is SubmissionInFlight {
            var problem = Problem(.conflict, detail: "a request with this Idempotency-Key is still in progress; retry shortly")
            problem.headers[.retryAfter] = "1"
            throw problem
        }
    }

    /// The job; with `?wait=N` (at most 60) the answer waits until the job leaves the
    /// status it had (or the one given as `?status=`), or N seconds pass.
    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<JobView> {
        let workspace = try context.requireWorkspace()
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
        guard let job = try await jobs.find(workspaceID: workspace, id: id) else { throw Problem(.notFound, detail: "no job \(id) in this workspace") }
        return job
    }

    /// Cancels a pending job: its submitter, or an admin (`policies:admin`). Idempotent.
    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<JobView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        guard SortableID.isWellFormed(id, prefix: "job") else { throw Problem(.notFound, detail: "no job \(id) in this workspace") }
        do {
            let job = try await cancelJob(
                id, in: workspace, by: principal, actor: SecurityAudit.actor(principal, context: context),
                audit: RequestAuditTrail(audit: audit, context: context))
            return JSONResponse(body: JobView(job))
        } catch let refusal as CancelJob.Refusal {
            switch refusal {
            case .notFound: throw Problem(.notFound, detail: "no job \(id) in this workspace")
            case .notCancellable(let job):
                throw Problem(.conflict, detail: "the job is \(job.status.rawValue); only a job pending approval can be cancelled")
            case .notAllowed: throw Problem(.forbidden, detail: "only the submitter or an admin (policies:admin) can cancel this job")
            }
        }
    }

    /// Newest first; filters `status` and `action`; `cursor` is the previous page's `next_cursor`.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<JobView>> {
        let workspace = try context.requireWorkspace()
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
        let records = try await jobs.list(workspaceID: workspace, status: status, action: action, before: cursor, limit: limit + 1)
        return JSONResponse(body: Page(records, limit: limit, cursor: \.id, view: JobView.init))
    }
}
