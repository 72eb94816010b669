import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

/// `reviewers` (migration 0023): each workspace's reviewer directory.
public struct ReviewerDirectoryStore: ReviewerDirectoryStoring {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = "person, email, display_name, slack_user_id, groups, notify, updated_at"

    public func list(workspaceID: String) async throws -> [DirectoryEntry] {
        try await Self.entries(
            client.query("SELECT \(unescaped: Self.columns) FROM reviewers WHERE workspace_id = \(workspaceID) ORDER BY person", logger: logger))
    }

    public func find(workspaceID: String, person: String) async throws -> DirectoryEntry? {
        try await Self.entries(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM reviewers WHERE workspace_id = \(workspaceID) AND person = \(person)", logger: logger)
        ).first
    }

    /// Creates or replaces the person's entry, audited with the entry before and after.
    public func put(workspaceID: String, entry: DirectoryEntry, actor: AuditActor) async throws -> DirectoryEntry {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let before = try await Self.entries(
                connection.query(
                    "SELECT \(unescaped: Self.columns) FROM reviewers WHERE workspace_id = \(workspaceID) AND person = \(entry.person) FOR UPDATE",
                    logger: logger)
            ).first
            let rows = try await connection.query(
                """
                INSERT INTO reviewers (workspace_id, person, email, display_name, slack_user_id, groups, notify, updated_at)
                VALUES (\(workspaceID), \(entry.person), \(entry.email), \(entry.displayName), \(entry.slackUserID), \(entry.groups),
                        \(entry.notify), now())
                ON CONFLICT (workspace_id, person) DO UPDATE SET email = EXCLUDED.email, display_name = EXCLUDED.display_name,
                    slack_user_id = EXCLUDED.slack_user_id, groups = EXCLUDED.groups, notify = EXCLUDED.notify, updated_at = now()
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let after = try await Self.entries(rows).first else { throw ReviewerDirectoryStoreError.notWritten }
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: workspaceID, actor: actor, action: "reviewer.changed", targetType: "reviewer", targetID: entry.person,
                    details: ["before": before?.json ?? .null, "after": after.json]),
                on: connection, logger: logger)
            return after
        }
    }

    public func remove(workspaceID: String, person: String, actor: AuditActor) async throws -> Bool {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                "DELETE FROM reviewers WHERE workspace_id = \(workspaceID) AND person = \(person) RETURNING \(unescaped: Self.columns)",
                logger: logger)
            guard let removed = try await Self.entries(rows).first else { return false }
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: workspaceID, actor: actor, action: "reviewer.removed", targetType: "reviewer", targetID: person,
                    details: ["before": removed.json]),
                on: connection, logger: logger)
            return true
        }
    }

    static func entries(_ rows: PostgresRowSequence) async throws -> [DirectoryEntry] {
        var result: [DirectoryEntry] = []
        for try await (person, email, displayName, slack, groups, notify, updatedAt) in rows.decode(
            (String, String, String?, String?, [String], Bool, Date).self)
        {
            result.append(
                DirectoryEntry(
                    person: person, email: email, displayName: displayName, slackUserID: slack, groups: groups, notify: notify,
                    updatedAt: updatedAt))
        }
        return result
    }
}

enum ReviewerDirectoryStoreError: Error {
    case notWritten
}
