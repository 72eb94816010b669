import Approvals
import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

/// `decision_links` (migration 0024): the hashes of the links notifications carry.
public struct DecisionLinkStore: DecisionLinkStoring {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = "workspace_id, approval_id, person, decision, payload_hash, expires_at, used_at"

    public func create(tokenHash: [UInt8], link: DecisionLink, deliveryID: Int64?) async throws {
        try await client.query(
            """
            INSERT INTO decision_links (token_hash, workspace_id, approval_id, person, decision, payload_hash, delivery_id, expires_at)
            VALUES (\(ByteBuffer(bytes: tokenHash)), \(link.workspaceID), \(link.approvalID), \(link.person), \(link.decision.rawValue), \(link.payloadHash),
                    \(deliveryID), \(link.expiresAt))
            """, logger: logger)
    }

    public func find(tokenHash: [UInt8]) async throws -> DecisionLink? {
        try await Self.links(
            client.query("SELECT \(unescaped: Self.columns) FROM decision_links WHERE token_hash = \(ByteBuffer(bytes: tokenHash))", logger: logger)
        ).first
    }

    public func spend(tokenHash: [UInt8], via channel: String, actor: AuditActor) async throws -> DecisionLink? {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let spent = try await Self.links(
                connection.query(
                    """
                    UPDATE decision_links SET used_at = now()
                    WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND used_at IS NULL AND expires_at > now()
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger)
            ).first
            if let spent {
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: spent.workspaceID, actor: actor, action: "decision_link.used", targetType: "approval",
                        targetID: spent.approvalID,
                        details: ["person": .string(spent.person), "decision": .string(spent.decision.rawValue), "via": .string(channel)]),
                    on: connection, logger: logger)
            }
            return spent
        }
    }

    public func refuse(_ link: DecisionLink, because refusal: DecisionLinkRefusal, via channel: String, actor: AuditActor) async throws {
        try await AuditLog.record(
            AuditEvent(
                workspaceID: link.workspaceID, actor: actor, action: "decision_link.refused", targetType: "approval",
                targetID: link.approvalID, outcome: .denied,
                details: [
                    "person": .string(link.person), "decision": .string(link.decision.rawValue), "via": .string(channel),
                    "reason": .string(refusal.rawValue),
                ]),
            client: client, logger: logger)
    }

    static func links(_ rows: PostgresRowSequence) async throws -> [DecisionLink] {
        var links: [DecisionLink] = []
        for try await (workspace, approval, person, decision, hash, expires, used) in rows.decode(
            (String, String, String, String, String, Date, Date?).self)
        {
            links.append(
                DecisionLink(
                    workspaceID: workspace, approvalID: approval, person: person, decision: VoteDecision(rawValue: decision) ?? .reject,
                    payloadHash: hash, expiresAt: expires, usedAt: used))
        }
        return links
    }
}
