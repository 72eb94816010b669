import Actions
import Gate
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
    }

    /// Field errors as every validation problem lists them.
    static func fieldErrors(_ errors: [FieldError]) -> [[String: String]] {
        errors.map { ["field": $0.field, "message": $0.message] }
    }
}
