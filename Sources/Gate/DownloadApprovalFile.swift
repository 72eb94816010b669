import Actions
import Foundation

/// An approval and the job it gates, as reviewers read them.
public protocol ApprovalWithJobLookup: Sendable {
    func findWithJob(workspaceID: String, id: String) async throws -> (ApprovalRecord, JobRecord)?
}

/// A reviewer fetching one file of the message an approval would send, to look at
/// what they are asked to approve. The file is named by its SHA-256, as the preview
/// lists it; the bytes are checked against that hash before they are handed out, so
/// a reviewer sees exactly the bytes the executor would send. Front doors serve it as
/// a download only (`Content-Disposition: attachment`), never rendered.
public struct DownloadApprovalFile: Sendable {
    public struct File: Sendable {
        public let description: EmailAttachment
        public let bytes: Data
    }

    let approvals: any ApprovalWithJobLookup
    let files: any JobAttachmentReading

    public init(approvals: any ApprovalWithJobLookup, files: any JobAttachmentReading) {
        self.approvals = approvals
        self.files = files
    }

    /// The file, or nil when the workspace has no such approval, its job no such file,
    /// or the file is gone (purged with the job's history).
    public func callAsFunction(workspace: String, approvalID: String, sha256: String) async throws -> File? {
        guard let (_, job) = try await approvals.findWithJob(workspaceID: workspace, id: approvalID),
            case .success(let action) = ActionRegistry.validate(action: job.action, params: job.params, form: .stored),
            let description = action.files.first(where: { $0.sha256 == sha256 }),
            let bytes = try await files.content(workspaceID: workspace, jobID: job.id, sha256: sha256),
            EmailAttachment.sha256(of: bytes) == sha256
        else { return nil }
        return File(description: description, bytes: bytes)
    }
}
