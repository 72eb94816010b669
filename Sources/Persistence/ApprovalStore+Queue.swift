import Foundation
import GateCore
import PostgresNIO

/// One row of the console's queue: the pending approval, what its job would do, who
/// submitted it and how many people approved it so far.
public struct QueueEntry: Sendable {
    public let approvalID: String
    public let jobID: String
    public let action: String
    public let payloadHash: String
    public let requiredApprovals: Int
    public let approvals: Int
    public let expiresAt: Date
    public let createdAt: Date
    public let params: JSONValue
    /// `api_key:<id>` or `user:<sub>`.
    public let submittedBy: String
    public let actsFor: String?
}

/// The console queue's filters; nil means any.
public struct QueueFilter: Sendable, Equatable {
    public var action: String?
    /// A person (`acts_for`), a key id, or a qualified submitter (`api_key:<id>`).
    public var submitter: String?
    /// Waiting at least this many minutes.
    public var minAgeMinutes: Int?

    public init(action: String? = nil, submitter: String? = nil, minAgeMinutes: Int? = nil) {
        self.action = action
        self.submitter = submitter
        self.minAgeMinutes = minAgeMinutes
    }
}

extension ApprovalStore {
    /// A page of the workspace's pending approvals, expiring first (the
    /// `approvals_pending_queue` index; keyset pagination after `cursor`, an approval id).
    public func queue(workspaceID: String, filter: QueueFilter, after cursor: String?, limit: Int) async throws -> [QueueEntry] {
        let rows = try await client.query(
            """
            SELECT a.id, a.job_id, a.action, a.payload_hash, a.required_approvals, a.expires_at, a.created_at, j.params::text,
                   j.submitted_by_type || ':' || j.submitted_by, j.acts_for,
                   (SELECT count(DISTINCT coalesce(v.reviewer_person, v.reviewer))::int FROM approval_votes v
                    WHERE v.approval_id = a.id AND v.decision = 'approve' AND v.reviewer LIKE 'user:%')
            FROM approvals a JOIN jobs j ON j.id = a.job_id
            WHERE a.workspace_id = \(workspaceID) AND a.status = 'pending'
              AND (\(filter.action)::text IS NULL OR a.action = \(filter.action))
              AND (\(filter.submitter)::text IS NULL OR j.acts_for = \(filter.submitter) OR j.submitted_by = \(filter.submitter)
                   OR j.submitted_by_type || ':' || j.submitted_by = \(filter.submitter))
              AND (\(filter.minAgeMinutes)::int IS NULL OR a.created_at <= now() - make_interval(mins => \(filter.minAgeMinutes)))
              AND (\(cursor)::text IS NULL OR (a.expires_at, a.id) > (
                  SELECT expires_at, id FROM approvals WHERE workspace_id = \(workspaceID) AND id = \(cursor)))
            ORDER BY a.expires_at, a.id LIMIT \(limit)
            """, logger: logger)
        var entries: [QueueEntry] = []
        for try await (id, job, action, hash, required, expires, created, params, submitter, actsFor, approvals) in rows.decode(
            (String, String, String, String, Int, Date, Date, String, String, String?, Int).self)
        {
            entries.append(
                QueueEntry(
                    approvalID: id, jobID: job, action: action, payloadHash: hash, requiredApprovals: required, approvals: approvals,
                    expiresAt: expires, createdAt: created, params: (try? JSONValue(parsing: params)) ?? .null,
                    submittedBy: submitter, actsFor: actsFor))
        }
        return entries
    }

    /// How many approvals of the workspace wait for a decision (the queue's heading),
    /// counted up to `cap` + 1: a full count grows with the queue and runs on every page
    /// load and live refresh (bench/RESULTS.md "Console queue page"); past the cap the
    /// page says "1,000+".
    public func pendingCount(workspaceID: String, cap: Int = 1000) async throws -> Int {
        let rows = try await client.query(
            """
            SELECT count(*)::int FROM (
                SELECT 1 FROM approvals WHERE workspace_id = \(workspaceID) AND status = 'pending' LIMIT \(cap + 1)) pending
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}
