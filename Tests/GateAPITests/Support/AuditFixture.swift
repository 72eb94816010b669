import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO

@testable import GateAPI
@testable import Persistence

/// Helpers for audit tests on top of `AuthFixture`: events written straight to the
/// table, tokens with audit scopes, the audit routes, and SQL run as the superuser
/// (the tests' database role) on one session.
extension AuthFixture {
    func auditToken(_ scopes: [String], workspace: String = "acme", sub: String = "carol") async throws -> String {
        try await identity.token(TestIdentity.claims(sub: sub, ws: [workspace: scopes]))
    }

    /// Writes `count` events through `AuditLog` (as the application does); returns their seqs.
    @discardableResult
    func writeEvents(_ count: Int, workspace: String = "acme", action: String = "test.event", actor: String = "agent-1")
        async throws -> [Int64]
    {
        try await db.withClient { client in
            var seqs: [Int64] = []
            for index in 0..<count {
                let rows = try await client.query(
                    """
                    INSERT INTO audit_events (workspace_id, actor_type, actor_id, action, target_type, target_id, outcome, details)
                    VALUES (\(workspace), 'api_key', \(actor), \(action), 'job', \("job-\(index)"), 'success',
                            jsonb_build_object('n', \(index)))
                    RETURNING seq
                    """)
                for try await (seq) in rows.decode(Int64.self) { seqs.append(seq) }
            }
            return seqs
        }
    }

    /// Runs `statements` in order on one session (so `SET session_replication_role` holds).
    func asSuperuser(_ statements: [String]) async throws {
        try await db.withClient { client in
            try await client.withConnection { connection in
                for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestEnvironment.logger) }
            }
        }
    }

    func getAudit(_ client: any TestClientProtocol, _ path: String, credential: String? = nil) async throws -> TestResponse {
        try await client.execute(uri: "/v1/workspaces/acme/audit\(path)", method: .get, headers: bearer(credential ?? adminKey))
    }

    /// The workspace's events in the database as (seq, hex hash or nil), seq order.
    func chainRows(workspace: String = "acme") async throws -> [(Int64, String?)] {
        try await db.withClient { client in
            let rows = try await client.query(
                """
                SELECT e.seq, encode(c.hash, 'hex') FROM audit_events e LEFT JOIN audit_chain c ON c.seq = e.seq
                WHERE e.workspace_id = \(workspace) ORDER BY e.seq
                """)
            var result: [(Int64, String?)] = []
            for try await row in rows.decode((Int64, String?).self) { result.append(row) }
            return result
        }
    }
}

/// Runs `python3 scripts/verify-audit-export.py` on a file; (exit status, parsed JSON output).
func runExportVerifier(_ path: String, arguments: [String] = []) async throws -> (Int32?, [String: Any]) {
    let script = URL(fileURLWithPath: TestEnvironment.migrationsDirectory).deletingLastPathComponent()
        .appendingPathComponent("scripts/verify-audit-export.py").path
    let out = "\(TestEnvironment.serversDirectory)/verify-\(UUID().uuidString)"
    let process = try ChildProcess(
        ["/usr/bin/python3", script, path] + arguments, environment: [:], stdoutPath: out + ".out", stderrPath: out + ".err")
    let status = await process.wait()
    let stdout = (try? Data(contentsOf: URL(fileURLWithPath: out + ".out"))) ?? Data()
    let json = (try? JSONSerialization.jsonObject(with: stdout)) as? [String: Any] ?? [:]
    return (status, json)
}
