import Actions
import Approvals
import Auth
import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `/v1/workspaces/{ws}/approvals`: the reviewer's queue, the exact preview of what
/// will run, and the votes. Read with `approvals:read`, decide with `approvals:decide`.
struct ApprovalsController: Sendable {
    let reads: TimedApprovalReads
    let vote: VoteOnApproval
    let audit: SecurityAudit
    let files: any JobAttachmentReading
    var bulk: DecideInBulk { DecideInBulk(vote: vote) }
    var download: DownloadApprovalFile { DownloadApprovalFile(approvals: reads, files: files) }

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        let read = workspace.group("approvals").add(middleware: RequireScope(.approvalsRead, audit: audit))
        read.get(use: list)
        read.get("{id}", use: get)
        read.get("{id}/attachments/{sha256}", use: file)
        let decide = workspace.group("approvals").add(middleware: RequireScope(.approvalsDecide, audit: audit))
        decide.post("{id}/approve", use: approve)
        decide.post("{id}/reject", use: reject)
        decide.post("bulk", use: decideInBulk)
    }

    struct ApprovalView: Encodable, Sendable {
        let approval: ApprovalRecord
        let preview: JSONValue?

        func encode(to encoder: any Encoder) throws {
            var object: [String: JSONValue] = [
                "id": .string(approval.id), "workspace": .string(approval.workspaceID), "job_id": .string(approval.jobID),
                "action": .string(approval.action), "status": .string(approval.status.rawValue),
                "payload_hash": .string(approval.payloadHash), "required_approvals": .integer(approval.requiredApprovals),
                "approvals": .integer(ApprovalRules.approvers(approval.castVotes).count),
                "expires_at": .string(RFC3339.format(approval.expiresAt)),
                "created_at": .string(RFC3339.format(approval.createdAt)),
                "decided_at": approval.decidedAt.map { .string(RFC3339.format($0)) } ?? .null,
                "reason": approval.reason.map { .string($0) } ?? .null,
                "reason_code": approval.reasonCode.map { .string($0) } ?? .null,
                "approvers": ApproverRulesJSON.json(approval.approverRules),
                "votes": .array(approval.votes.map { vote in
                    var view: [String: JSONValue] = [
                        "reviewer": .string(vote.reviewer), "decision": .string(vote.decision.rawValue),
                        "comment": vote.comment.map { .string($0) } ?? .null,
                        "payload_hash_seen": vote.payloadHashSeen.map { .string($0) } ?? .null,
                        "created_at": .string(RFC3339.format(vote.createdAt)),
                    ]
                    // Under group rules: whose approval it could be (the voter's, or a delegator's).
                    if let standings = vote.standings { view["standings"] = StandingsJSON.json(standings) }
                    return .object(view)
                }),
            ]
            if let preview { object["preview"] = preview }
            try JSONValue.object(object).encode(to: encoder)
        }
    }

    /// `?status=pending` (default: the queue, expiring first), `decided`, or one decided
    /// status (history, newest first); `action`, `limit`, `cursor`.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ApprovalView>> {
        let workspace = try context.requireWorkspace()
        let query = request.uri.queryParameters
        let limit = try Pagination.limit(request)
        let listing: ApprovalStore.Listing
        switch query.get("status") ?? "pending" {
        case "pending": listing = .pending
        case "decided": listing = .decided(nil)
        case let raw:
            guard let status = ApprovalStatus(rawValue: raw) else {
                throw Problem(.badRequest, detail: "status must be pending, decided, approved, rejected, expired or cancelled")
            }
            listing = .decided(status)
        }
        let action = query.get("action")
        if let action, ActionName(rawValue: action) == nil { throw Problem(.badRequest, detail: "unknown action \(action)") }
        let cursor = try Pagination.cursor(request, idPrefix: "apr")
        let records = try await reads.list(workspaceID: workspace, listing: listing, action: action, after: cursor, limit: limit + 1)
        return JSONResponse(body: Page(records, limit: limit, cursor: \.id, view: { ApprovalView(approval: $0, preview: nil) }))
    }

    /// The approval with the exact preview of what will run and its payload hash.
    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ApprovalView> {
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        guard SortableID.isWellFormed(id, prefix: "apr") else { throw Problem(.notFound, detail: "no approval \(id) in this workspace") }
        guard let (approval, job) = try await reads.findWithJob(workspaceID: workspace, id: id) else { throw Problem(.notFound, detail: "no approval \(id) in this workspace") }
        let preview: JSONValue?
        if case .success(let validated) = ActionRegistry.validate(action: job.action, params: job.params, form: .stored) {
            preview = validated.preview
        } else {
            preview = nil
        }
        return JSONResponse(body: ApprovalView(approval: approval, preview: preview))
    }

    /// One file of the message the approval would send (named by the SHA-256 its
    /// preview lists), as a download.
    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        let sha256 = try context.parameters.require("sha256")
        guard SortableID.isWellFormed(id, prefix: "apr"),
            let file = try await download(workspace: workspace, approvalID: id, sha256: sha256)
        else { throw Problem(.notFound, detail: "no file \(sha256) in approval \(id) of this workspace") }
        return FileDownload.response(file)
    }

    struct ApproveBody: Decodable {
        let comment: String?
        let payloadHash: String?
        enum CodingKeys: String, CodingKey {
            case comment
            case payloadHash = "payload_hash"
        }
    }

    struct RejectBody: Decodable {
        let reason: String
        let code: String?
        let payloadHash: String?
        enum CodingKeys: String, CodingKey {
            case reason, code
            case payloadHash = "payload_hash"
        }
    }

    @Sendable func approve(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ApprovalView> {
        let body = try await request.decodeOptionalJSON(as: ApproveBody.self, context: context)
        return try await decide(
            VoteOnApproval.Ballot(decision: .approve, comment: body?.comment, payloadHashSeen: body?.payloadHash), context: context)
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ApprovalView> {
        let body = try await request.decodeJSON(as: RejectBody.self, context: context)
        return try await decide(
            VoteOnApproval.Ballot(decision: .reject, comment: body.reason, reasonCode: body.code, payloadHashSeen: body.payloadHash),
            context: context)
    }

    private func decide(_ ballot: VoteOnApproval.Ballot, context: AppRequestContext) async throws -> JSONResponse<ApprovalView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let id = try context.parameters.require("id")
        guard SortableID.isWellFormed(id, prefix: "apr") else { throw Problem(.notFound, detail: "no approval \(id) in this workspace") }
        let outcome: DecisionOutcome?
        do {
            outcome = try await vote(
                ballot, on: id, in: workspace, by: Reviewer(principal: principal.qualifiedID, person: principal.actsFor),
                actor: SecurityAudit.actor(principal, context: context))
        } catch let invalid as ValidationFailure {
            throw Problem(invalid)
        } catch is VoteOnApproval.Contended {
            var problem = Problem(.serviceUnavailable, detail: "other votes on this approval kept landing first; retry")
            problem.headers[.retryAfter] = "1"
            throw problem
        }
        switch outcome {
        case nil:
            throw Problem(.notFound, detail: "no approval \(id) in this workspace")
        case .changed(let approval)?, .repeated(let approval)?:
            return JSONResponse(body: ApprovalView(approval: approval, preview: nil))
        case .refused(let refusal, let approval)?:
            throw Problem(refusal, approval: approval)
        }
    }
}
