import Actions
import Approvals
import Auth
import Gate
import GateCore
import HTTPTypes

extension Problem {
    /// A refused submission as the REST API answers it.
    init(_ refused: SubmissionRefused) {
        self.init(
            HTTPResponse.Status(code: refused.kind.status), title: refused.errors.isEmpty ? nil : "Validation Failed",
            detail: refused.detail)
        if !refused.errors.isEmpty { extensions["errors"] = Self.fieldErrors(refused.errors) }
        if case .purged(let jobID, let jobStatus) = refused.kind {
            extensions["job_id"] = jobID
            extensions["job_status"] = jobStatus
            headers[.idempotentReplayed] = "true"
        }
        if case .queueFull(let seconds) = refused.kind {
            headers[.retryAfter] = String(seconds)
            extensions["reason"] = refused.reason
        }
    }

    /// Field errors as every validation problem lists them.
    static func fieldErrors(_ errors: [FieldError]) -> [[String: String]] {
        errors.map { ["field": $0.field, "message": $0.message] }
    }
}

extension Problem {
    /// A request that failed validation: 422 listing each field.
    init(_ invalid: ValidationFailure) {
        self.init(
            .unprocessableContent, title: "Validation Failed",
            detail: invalid.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
        extensions["errors"] = Self.fieldErrors(invalid.errors)
    }

    /// A vote the gate's rules refused.
    init(_ refusal: VoteRefusal, approval: ApprovalRecord) {
        switch refusal {
        case .notAPerson:
            self.init(.forbidden, detail: "API keys cannot vote: a reviewer approves or rejects with their own token")
        case .ownJob:
            self.init(.forbidden, detail: "you cannot decide on a job you, a key acting for you, or a key you created or rotated submitted")
        case .conflictingVote(let previous):
            self.init(.conflict, detail: "you already voted to \(previous.rawValue) this job")
        case .notPending(let status):
            self.init(.conflict, detail: "the approval is already \(status.rawValue)")
        case .expired:
            self.init(.conflict, detail: "the approval expired at \(RFC3339.format(approval.expiresAt))")
        case .payloadMismatch:
            self.init(.conflict, detail: "payload_hash differs from the job's: the payload you reviewed is not the one that would run")
        case .notInApproverGroups:
            self.init(
                .forbidden,
                detail: "this approval needs \(ApproverRulesJSON.describe(approval.approverRules)); you are in none of those groups of the workspace's reviewer directory, nor standing in for anyone who is")
        }
    }
}

extension Problem {
    /// A key administration `KeyAdministrationRules` refused.
    init(_ refusal: KeyRefusal) {
        switch refusal {
        case .scopeNotForKeys:
            self.init(ValidationFailure([
                FieldError(field: "scopes", message: "approvals:decide cannot be given to a key: a vote is a person's, made with their own token")
            ]))
        case .beyondOwnScopes(let scopes):
            self.init(
                .forbidden, detail: "the key holds or would hold scopes you do not hold: \(scopes.map(\.rawValue).joined(separator: ", "))")
        case .anotherPerson(let requested, let own):
            self.init(ValidationFailure([
                FieldError(
                    field: "acts_for",
                    message: "a key acts for the person behind its creator (\(own ?? "none")), not \"\(requested)\"; only the operator (gate-api keys create --acts-for) may name another person")
            ]))
        case .previousSecret:
            self.init(.forbidden, detail: "a key's previous secret (rotation overlap) cannot administer keys; use its current secret")
        }
    }
}

extension Problem {
    /// A webhook secret operation `ManageWebhookSecrets` refused.
    init(_ refusal: WebhookSecretRefusal) {
        switch refusal {
        case .overlapOutOfRange:
            self.init(ValidationFailure([
                FieldError(field: "overlap_seconds", message: "must be 0 to \(ManageWebhookSecrets.maximumOverlapSeconds)")
            ]))
        case .sealingUnavailable:
            self.init(.serviceUnavailable, detail: "this server cannot store webhook secrets: SECRETS_KEY is not set")
        case .unknownWorkspace:
            self.init(.notFound, detail: "no such workspace")
        case .notFound:
            self.init(.notFound, detail: "no such webhook secret in this workspace")
        }
    }

    /// A Gmail credentials operation `ManageGmailCredentials` refused.
    init(_ refusal: GmailCredentialsRefusal) {
        switch refusal {
        case .invalid(let failure):
            self.init(failure)
        case .sealingUnavailable:
            self.init(.serviceUnavailable, detail: "this server cannot store credentials: SECRETS_KEY is not set")
        case .notFound:
            self.init(.notFound, detail: "this workspace has no Gmail credentials")
        }
    }

    /// Another replica holds the workspace's seal lock for longer than a request waits.
    init(_ busy: AuditStoreError) {
        self.init(.serviceUnavailable, detail: "the audit log of this workspace is being sealed; retry shortly")
        headers[.retryAfter] = "1"
    }
}
