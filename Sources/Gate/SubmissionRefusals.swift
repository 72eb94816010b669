import Actions
import GateCore

extension SubmitJob {
    /// Refuses a submission: the audit row first (`job.refused`, with the reason and the
    /// names of bad fields, never their values), then the error to throw.
    /// A file a refusal is about, as its audit row names it.
    struct RefusedFile {
        var filename: String
        var contentType: String
        var problem: String

        /// The files of `params` that `errors` are about (`params.attachments[2]…`), as submitted.
        static func named(by errors: [FieldError], in params: JSONValue?) -> [RefusedFile] {
            guard case .object(let members)? = params else { return [] }
            var files: [RefusedFile] = []
            for error in errors {
                for key in ["attachments", "inline"] where error.field.hasPrefix("params.\(key)[") {
                    let index = error.field.dropFirst("params.\(key)[".count).prefix { $0.isNumber }
                    guard let i = Int(index), case .array(let items)? = members[key], items.indices.contains(i),
                        case .object(let item) = items[i]
                    else { continue }
                    func text(_ name: String) -> String {
                        if case .string(let value)? = item[name] { return String(value.prefix(255)) }
                        return ""
                    }
                    files.append(RefusedFile(filename: text("filename"), contentType: text("content_type"), problem: String(error.message.prefix(500))))
                }
            }
            return files
        }
    }

    struct Refusals {
        let submission: JobSubmission
        let audit: any AuditTrail

        func callAsFunction(
            _ kind: SubmissionRefused.Kind, reason: String, detail: String, errors: [FieldError] = [], action: String? = nil,
            files: [RefusedFile] = []
        ) async throws -> SubmissionRefused {
            var details: [String: JSONValue] = ["reason": .string(reason), "status": .integer(kind.status)]
            if let action { details["action"] = .string(action) }
            if !errors.isEmpty { details["fields"] = .array(errors.map { .string($0.field) }) }
            // A refused file is named with its type, never its content, and why.
            if !files.isEmpty {
                details["files"] = .array(files.map {
                    ["filename": .string($0.filename), "content_type": .string($0.contentType), "problem": .string($0.problem)]
                })
            }
            try await audit.record(
                AuditEvent(
                    workspaceID: submission.workspace, actor: submission.actor, action: "job.refused", targetType: "job",
                    outcome: .denied, details: details))
            return SubmissionRefused(kind, reason: reason, detail: detail, errors: errors, action: action)
        }

        func keyReused(_ action: String) async throws -> SubmissionRefused {
            try await self(
                .invalid, reason: "idempotency_key_reused", detail: "Idempotency-Key was already used with a different payload",
                action: action)
        }

        /// A retry whose job the history purge deleted while the key was still within
        /// IDEMPOTENCY_TTL_SECONDS: refused, naming the job and how it ended (a key
        /// reuse for another payload). Never a new job: the first request's action ran
        /// (or was decided) already.
        func purged(_ record: IdempotencyRecord, _ request: SubmitJob.ValidRequest, claims: any IdempotencyClaims)
            async throws -> SubmissionRefused
        {
            await claims.complete(
                workspace: record.workspaceID, key: request.key, payloadHash: record.payloadHash, jobID: record.jobID)
            let action = request.action.action.rawValue
            guard record.payloadHash == request.action.payloadHash else { return try await keyReused(action) }
            return try await self(
                .purged(jobID: record.jobID, jobStatus: record.jobStatus), reason: "idempotency_job_purged",
                detail: "this Idempotency-Key created job \(record.jobID), which ended \(record.jobStatus) and has since been "
                    + "removed from the job history; it is not created again",
                action: action)
        }
    }
}
