import Auth
import GateCore
import Hummingbird
import Prometheus

/// Audit rows for the two refusals that come before rate limiting — failed
/// authentications (source: the client address) and foreign-workspace 404s (source: the
/// principal) — within the source's `DenialAuditBudget`; a refusal past it is counted in
/// `unaudited` instead, and the source's next row says how many were left out.
struct BudgetedDenialAudit: Sendable {
    let audit: SecurityAudit
    let budget: DenialAuditBudget
    let unaudited: Counter

    func denied(
        source: String?, workspace: String, action: String, principal: Principal?, claimedID: String? = nil,
        reason: String, request: Request, context: AppRequestContext
    ) async throws {
        switch budget.admit(source) {
        case .record(let unauditedBefore):
            try await audit.denied(
                workspace: workspace, action: action, principal: principal, claimedID: claimedID, reason: reason,
                details: unauditedBefore > 0 ? ["unaudited_before": .integer(unauditedBefore)] : [:],
                request: request, context: context)
        case .skip:
            unaudited.increment()
        }
    }
}
