import Foundation
import Gate
import GateCore
import Hummingbird
import Persistence

/// `GET /v1/workspaces/{ws}/tasks`: the tasks `task.create` jobs made, newest first.
struct TasksController: Sendable {
    let reads: TimedTaskReads
    let audit: SecurityAudit

    func addRoutes(to workspace: RouterGroup<AppRequestContext>) {
        workspace.group("tasks").add(middleware: RequireScope(.jobsRead, audit: audit)).get(use: list)
    }

    struct TaskView: Encodable, Sendable {
        let id: String
        let workspace: String
        let jobID: String
        let title: String
        let description: String?
        let dueAt: Date?
        let assignee: String?
        let labels: [String]
        let createdBy: String
        let createdAt: Date

        init(_ task: TaskRecord) {
            (id, workspace, jobID, title, description) = (task.id, task.workspaceID, task.jobID, task.title, task.description)
            (dueAt, assignee, labels, createdBy, createdAt) = (task.dueAt, task.assignee, task.labels, task.createdBy, task.createdAt)
        }

        enum CodingKeys: String, CodingKey {
            case id, workspace, title, description, assignee, labels
            case jobID = "job_id"
            case dueAt = "due_at"
            case createdBy = "created_by"
            case createdAt = "created_at"
        }

        /// Every key present, nulls included.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(workspace, forKey: .workspace)
            try c.encode(jobID, forKey: .jobID)
            try c.encode(title, forKey: .title)
            try c.encode(description, forKey: .description)
            try c.encode(dueAt, forKey: .dueAt)
            try c.encode(assignee, forKey: .assignee)
            try c.encode(labels, forKey: .labels)
            try c.encode(createdBy, forKey: .createdBy)
            try c.encode(createdAt, forKey: .createdAt)
        }
    }

    /// Filter `assignee`; `cursor` is the previous page's `next_cursor`.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<TaskView>> {
        let workspace = try context.requireWorkspace()
        let query = request.uri.queryParameters
        let limit = try Pagination.limit(request)
        let assignee = query.get("assignee")
        if let assignee, !(1...255).contains(assignee.count) || assignee.containsControlCharacters {
            throw Problem(.badRequest, detail: "assignee must be 1 to 255 characters without control characters")
        }
        let cursor = try Pagination.cursor(request, idPrefix: "tsk")
        let tasks = try await reads.list(workspaceID: workspace, assignee: assignee, before: cursor, limit: limit + 1)
        return JSONResponse(body: Page(tasks, limit: limit, cursor: \.id, view: TaskView.init))
    }
}
