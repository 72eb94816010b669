import Approvals
import Actions
import Auth
import Foundation
import Gate
import GateCore
import Hummingbird

/// `POST /v1/workspaces/{ws}/approvals/bulk`: one decision on up to 200 approvals,
/// the console's bulk decisions as an API route (`DecideInBulk`).
extension ApprovalsController {
    struct BulkBody: Decodable {
        struct Item: Decodable {
            let id: String
            let payloadHash: String?
            enum CodingKeys: String, CodingKey {
                case id
                case payloadHash = "payload_hash"
            }
        }
        let decision: String
        let approvals: [Item]
        let comment: String?
        let reason: String?
        let code: String?
    }

    struct BulkView: Encodable, Sendable {
        let outcome: DecideInBulk.Outcome

        func encode(to encoder: any Encoder) throws {
            let decided: [JSONValue] = outcome.decided.map { approval in
                [
                    "id": .string(approval.id), "job_id": .string(approval.jobID), "status": .string(approval.status.rawValue),
                    "approvals": .integer(ApprovalRules.approvers(approval.castVotes).count),
                    "required_approvals": .integer(approval.requiredApprovals),
                ]
            }
            let skipped: [JSONValue] = outcome.skipped.map { skip in
                [
                    "id": .string(skip.approvalID), "reason": .string(skip.reason.rawValue),
                    "status": skip.approval.map { .string($0.status.rawValue) } ?? .null,
                ]
            }
            try JSONValue.object(["decided": .array(decided), "skipped": .array(skipped)]).encode(to: encoder)
        }
    }

    @Sendable func decideInBulk(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<BulkView> {
        let principal = try context.requirePrincipal()
        let workspace = try context.requireWorkspace()
        let body = try await request.decodeJSON(as: BulkBody.self, context: context)
        let ballot: VoteOnApproval.Ballot
        switch body.decision {
        case "approve": ballot = .init(decision: .approve, comment: body.comment)
        case "reject": ballot = .init(decision: .reject, comment: body.reason, reasonCode: body.code)
        default: throw Problem(ValidationFailure([FieldError(field: "decision", message: "must be approve or reject")]))
        }
        let items = body.approvals.map { DecideInBulk.Item(approvalID: $0.id, payloadHashSeen: $0.payloadHash) }
        let outcome = try await Self.decideInBulk(
            bulk, ballot, items, workspace: workspace, principal: principal, actor: SecurityAudit.actor(principal, context: context))
        return JSONResponse(body: BulkView(outcome: outcome))
    }

    /// The use case with its refusals as problems; shared by the API and the console.
    static func decideInBulk(
        _ bulk: DecideInBulk, _ ballot: VoteOnApproval.Ballot, _ items: [DecideInBulk.Item], workspace: String, principal: Principal,
        actor: AuditActor
    ) async throws -> DecideInBulk.Outcome {
        do {
            return try await bulk(
                ballot, on: items, in: workspace, by: Reviewer(principal: principal.qualifiedID, person: principal.actsFor), actor: actor)
        } catch let invalid as ValidationFailure {
            throw Problem(invalid)
        } catch let refusal as DecideInBulk.Refusal {
            let message: String
            switch refusal {
            case .empty: message = "must name at least one approval"
            case .tooMany(let count): message = "names \(count) approvals; at most \(DecideInBulk.maxApprovals) at once"
            case .repeated(let id): message = "names \(id) more than once"
            }
            throw Problem(ValidationFailure([FieldError(field: "approvals", message: message)]))
        }
    }
}
