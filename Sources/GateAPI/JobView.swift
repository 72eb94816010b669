import Foundation
import Approvals
import GateCore
import Persistence

/// A job as the API shows it.
struct JobView: Encodable, Sendable {
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
}
