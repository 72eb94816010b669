import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// Helpers for key administration through the API, on top of `AuthFixture`.
extension AuthFixture {
    func createKey(_ client: any TestClientProtocol, as credential: String, _ body: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/v1/workspaces/acme/api-keys", method: .post,
            headers: [.authorization: "Bearer \(credential)", .contentType: "application/json"], body: ByteBuffer(string: body))
    }

    /// A new key's secret and id; fails the test unless it was created.
    func newKey(_ client: any TestClientProtocol, as credential: String, _ body: String) async throws -> (secret: String, id: String) {
        let response = try await createKey(client, as: credential, body)
        guard response.status == .created, let secret = response.json["key"] as? String, let id = response.json["id"] as? String else {
            throw FixtureError("create key: \(response.status) \(String(buffer: response.body))")
        }
        return (secret, id)
    }

    func rotateKey(_ client: any TestClientProtocol, _ id: String, as credential: String, overlap: Int = 600) async throws -> TestResponse {
        try await client.execute(
            uri: "/v1/workspaces/acme/api-keys/\(id)/rotate", method: .post, headers: bearer(credential),
            body: ByteBuffer(string: #"{"overlap_seconds":\#(overlap)}"#))
    }

    func revokeKey(_ client: any TestClientProtocol, _ id: String, as credential: String) async throws -> TestResponse {
        try await client.execute(uri: "/v1/workspaces/acme/api-keys/\(id)", method: .delete, headers: bearer(credential))
    }

    /// A key made by the operator (`gate-api keys create`), as the CLI makes it.
    func operatorKey(scopes: Set<Scope>, actsFor: String?, expiresAt: Date? = nil) async throws -> (secret: String, id: String) {
        let (record, token) = try await db.withClient { client in
            try await APIKeyStore(client: client, logger: TestEnvironment.logger).create(
                workspaceID: "acme", name: "operator's", scopes: scopes, expiresAt: expiresAt, createdBy: "cli", actsFor: actsFor,
                actor: AuditActor(kind: .cli, id: "test"))
        }
        return (token.value, record.id)
    }

    /// Submits an email job with `credential`; returns the approval id.
    func pendingEmail(_ client: any TestClientProtocol, by credential: String) async throws -> String {
        let job = try await submit(client, key: UUID().uuidString, body: emailBody, credential: credential)
        guard job.status == .created, let jobID = job.json["id"] as? String else {
            throw FixtureError("submit: \(job.status) \(String(buffer: job.body))")
        }
        return try await db.withClient { client in
            let rows = try await client.query("SELECT id FROM approvals WHERE job_id = \(jobID)")
            for try await (id) in rows.decode(String.self) { return id }
            return ""
        }
    }

    func userToken(_ sub: String, _ scopes: [String]) async throws -> String {
        try await identity.token(TestIdentity.claims(sub: sub, ws: ["acme": scopes]))
    }
}
