import Approvals
import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

/// `reviewers` (migration 0023): each workspace's reviewer directory.
public struct ReviewerDirectoryStore: ReviewerDirectoryStoring, ReviewerStandingLookup {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = "person, email, display_name, slack_user_id, groups, notify, updated_at, delegate, delegate_from, delegate_until"

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

    /// Sets or ends the delegation, audited with the entry before and after; the
    /// delegate must be in the directory (checked under the entry's row lock).
    public func delegate(workspaceID: String, person: String, delegation: Delegation?, actor: AuditActor) async throws
        -> DelegationChange
    {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            guard
                let before = try await Self.entries(
                    connection.query(
                        "SELECT \(unescaped: Self.columns) FROM reviewers WHERE workspace_id = \(workspaceID) AND person = \(person) FOR UPDATE",
                        logger: logger)
                ).first
            else { return .noReviewer }
            if let delegation {
                let known = try await connection.query(
                    "SELECT FROM reviewers WHERE workspace_id = \(workspaceID) AND person = \(delegation.delegate)", logger: logger)
                var found = false
                for try await _ in known { found = true }
                guard found else { return .unknownDelegate }
            }
            let rows = try await connection.query(
                """
                UPDATE reviewers SET delegate = \(delegation?.delegate), delegate_from = \(delegation?.from),
                    delegate_until = \(delegation?.until), updated_at = now()
                WHERE workspace_id = \(workspaceID) AND person = \(person)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let after = try await Self.entries(rows).first else { throw ReviewerDirectoryStoreError.notWritten }
            try await AuditLog.append(
                AuditEvent(
                    workspaceID: workspaceID, actor: actor, action: "reviewer.delegation_changed", targetType: "reviewer",
                    targetID: person, details: ["before": before.delegation?.json ?? .null, "after": after.delegation?.json ?? .null]),
                on: connection, logger: logger)
            return .changed(after)
        }
    }

    /// The person's own groups, and those of everyone whose delegation to them runs now.
    public func standings(workspaceID: String, person: String) async throws -> [Standing] {
        let rows = try await client.query(
            """
            SELECT person, groups FROM reviewers
            WHERE workspace_id = \(workspaceID)
              AND (person = \(person) OR (delegate = \(person) AND delegate_from <= now() AND delegate_until > now()))
            ORDER BY person <> \(person), person
            """, logger: logger)
        var standings: [Standing] = []
        for try await (who, groups) in rows.decode((String, [String]).self) {
            standings.append(Standing(person: who, groups: Set(groups), delegated: who != person))
        }
        return standings
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
        for try await (person, email, displayName, slack, groups, notify, updatedAt, delegate, from, until) in rows.decode(
            (String, String, String?, String?, [String], Bool, Date, String?, Date?, Date?).self)
        {
            let delegation = delegate.flatMap { delegate in
                from.flatMap { from in until.map { Delegation(delegate: delegate, from: from, until: $0) } }
            }
            result.append(
                DirectoryEntry(
                    person: person, email: email, displayName: displayName, slackUserID: slack, groups: groups, notify: notify,
                    delegation: delegation, updatedAt: updatedAt))
        }
        return result
    }
}

enum ReviewerDirectoryStoreError: Error {
    case notWritten
}
