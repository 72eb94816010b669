import Foundation
import Gate
import Logging
import PostgresNIO

/// A task created by `task.create`.
public struct TaskRecord: Sendable, Equatable {
    public let id: String
    public let workspaceID: String
    public let jobID: String
    public let title: String
    public let description: String?
    public let dueAt: Date?
    public let assignee: String?
    public let labels: [String]
    public let createdBy: String
    public let createdAt: Date
}

/// A workspace's task list (written by `ExecutionStore` when a job succeeds).
public struct TaskStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Newest first; `before` is the last id of the previous page.
    public func list(workspaceID: String, assignee: String?, before: String?, limit: Int) async throws -> [TaskRecord] {
        let rows = try await client.query(
            """
            SELECT id, workspace_id, job_id, title, description, due_at, assignee, labels, created_by, created_at
            FROM tasks
            WHERE workspace_id = \(workspaceID)
              AND (\(assignee)::text IS NULL OR assignee = \(assignee))
              AND (\(before)::text IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var tasks: [TaskRecord] = []
        for try await (id, workspace, job, title, description, dueAt, assignee, labels, createdBy, createdAt) in rows.decode(
            (String, String, String, String, String?, Date?, String?, [String], String, Date).self)
        {
            tasks.append(
                TaskRecord(
                    id: id, workspaceID: workspace, jobID: job, title: title, description: description, dueAt: dueAt,
                    assignee: assignee, labels: labels, createdBy: createdBy, createdAt: createdAt))
        }
        return tasks
    }
}
