import Foundation
import Approvals
import Gate
import GateCore
import Persistence

/// A job as the API shows it.
struct JobView: Encodable, JSONWritable, Sendable {
    struct Submitter: Encodable, Sendable {
        let type: String
        let id: String
    }

    let id: String
    let workspace: String
    let action: String
    let status: String
    let params: JSONValue
    let payloadHash: String
    let idempotencyKey: String
    let submittedBy: Submitter
    let actsFor: String?
    let callbackURL: String?
    let requiredApprovals: Int
    let expiresAt: Date?
    let createdAt: Date
    let updatedAt: Date
    let statusReason: String?
    let statusCode: String?
    let attempts: Int
    /// While a failed attempt waits to be retried: when the next one starts.
    let nextAttemptAt: Date?
    let result: JSONValue?

    init(_ job: JobRecord) {
        id = job.id
        workspace = job.workspaceID
        action = job.action
        status = job.status.rawValue
        params = job.params
        payloadHash = job.payloadHash
        idempotencyKey = job.idempotencyKey
        submittedBy = Submitter(type: job.submittedByType, id: job.submittedBy)
        actsFor = job.actsFor
        callbackURL = job.callbackURL
        requiredApprovals = job.requiredApprovals
        expiresAt = job.expiresAt
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        statusReason = job.statusReason
        statusCode = job.statusCode
        attempts = job.attempts
        nextAttemptAt = job.attempts > 0 && (job.status == .approved || job.status == .queued) ? job.nextAttemptAt : nil
        result = job.result
    }

    enum CodingKeys: String, CodingKey {
        case id, workspace, action, status, params
        case payloadHash = "payload_hash"
        case idempotencyKey = "idempotency_key"
        case submittedBy = "submitted_by"
        case actsFor = "acts_for"
        case callbackURL = "callback_url"
        case requiredApprovals = "required_approvals"
        case expiresAt = "expires_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case statusReason = "status_reason"
        case statusCode = "status_code"
        case attempts
        case nextAttemptAt = "next_attempt_at"
        case result
    }

    /// Every key present, nulls included: clients can rely on the shape.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(workspace, forKey: .workspace)
        try c.encode(action, forKey: .action)
        try c.encode(status, forKey: .status)
        try c.encode(params, forKey: .params)
        try c.encode(payloadHash, forKey: .payloadHash)
        try c.encode(idempotencyKey, forKey: .idempotencyKey)
        try c.encode(submittedBy, forKey: .submittedBy)
        try c.encode(actsFor, forKey: .actsFor)
        try c.encode(callbackURL, forKey: .callbackURL)
        try c.encode(requiredApprovals, forKey: .requiredApprovals)
        try c.encode(expiresAt, forKey: .expiresAt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(statusReason, forKey: .statusReason)
        try c.encode(statusCode, forKey: .statusCode)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(result, forKey: .result)
    }

    /// The same bytes as `encode(to:)` through `JSONEncoder.api` (JobViewTests checks),
    /// keys in their sorted order, without `JSONEncoder`'s cost.
    func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("action"); writer.write(action)
        writer.key("acts_for"); writer.write(actsFor)
        writer.key("attempts"); writer.write(attempts)
        writer.key("callback_url"); writer.write(callbackURL)
        writer.key("created_at"); writer.write(createdAt)
        writer.key("expires_at"); writer.write(expiresAt)
        writer.key("id"); writer.write(id)
        writer.key("idempotency_key"); writer.write(idempotencyKey)
        writer.key("next_attempt_at"); writer.write(nextAttemptAt)
        writer.key("params"); writer.write(params)
        writer.key("payload_hash"); writer.write(payloadHash)
        writer.key("required_approvals"); writer.write(requiredApprovals)
        writer.key("result"); writer.write(result)
        writer.key("status"); writer.write(status)
        writer.key("status_code"); writer.write(statusCode)
        writer.key("status_reason"); writer.write(statusReason)
        writer.key("submitted_by")
        writer.beginObject()
        writer.key("id"); writer.write(submittedBy.id)
        writer.key("type"); writer.write(submittedBy.type)
        writer.endObject()
        writer.key("updated_at"); writer.write(updatedAt)
        writer.key("workspace"); writer.write(workspace)
        writer.endObject()
    }
}
