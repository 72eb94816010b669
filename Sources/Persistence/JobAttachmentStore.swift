import Actions
import Foundation
import Gate
import Logging
import PostgresNIO

/// `job_attachments` (migration 0022): the bytes of `gmail.send` files, by job and SHA-256.
public struct JobAttachmentStore: JobAttachmentReading {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Writes `files` for the job just inserted on `connection` (in its transaction).
    /// One statement per file: a file can be 25 MB, and Postgres takes each as one
    /// parameter without copying it into a statement text.
    static func write(_ files: AttachmentContents, jobID: String, workspaceID: String, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        for (sha256, bytes) in files.bytes.sorted(by: { $0.key < $1.key }) {
            try await connection.query(
                """
                INSERT INTO job_attachments (job_id, workspace_id, sha256, content)
                VALUES (\(jobID), \(workspaceID), \(sha256), \(ByteBuffer(bytes: bytes)))
                """, logger: logger)
        }
    }

    public func contents(workspaceID: String, jobID: String) async throws -> AttachmentContents {
        let rows = try await client.query(
            "SELECT sha256, content FROM job_attachments WHERE job_id = \(jobID) AND workspace_id = \(workspaceID)",
            logger: logger)
        var found: [String: Data] = [:]
        for try await (sha256, content) in rows.decode((String, ByteBuffer).self) {
            found[sha256] = Data(content.readableBytesView)
        }
        return AttachmentContents(found)
    }

    public func content(workspaceID: String, jobID: String, sha256: String) async throws -> Data? {
        let rows = try await client.query(
            """
            SELECT content FROM job_attachments
            WHERE job_id = \(jobID) AND workspace_id = \(workspaceID) AND sha256 = \(sha256)
            """, logger: logger)
        for try await content in rows.decode(ByteBuffer.self) { return Data(content.readableBytesView) }
        return nil
    }
}

extension JobStore {
    /// `insert(_:)` for a submission with files: the job (with its audit rows and
    /// approval) and its files in one transaction, so a job never exists without the
    /// bytes its payload hash names. Not batched: its statement would carry megabytes,
    /// and batching pays off for many small submissions (`JobInsertBatcher`).
    func insertWithFiles(_ insert: JobInsert) async throws -> InsertOutcome {
        let query = Self.insertQuery(insert.job, actor: insert.actor, id: insert.id, approvalID: insert.approvalID)
        let logger = self.logger
        let created = try await TransactionConflict.retrying {
            try await client.transaction(logger: logger) { connection -> JobRecord? in
                var created: JobRecord?
                for try await row in try await connection.query(query, logger: logger) {
                    created = try Self.record(row)
                }
                guard let created else { return nil }
                try await JobAttachmentStore.write(
                    insert.files, jobID: created.id, workspaceID: created.workspaceID, on: connection, logger: logger)
                return created
            }
        }
        if let created { return .created(created) }
        return try await existing(insert.job)
    }
}
