import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO

@testable import GateAPI

/// Helpers for job tests on top of `AuthFixture`: policies set through the API,
/// submissions, and counting rows.
extension AuthFixture {
    /// gmail.send gated, task.create automatic, in `acme`.
    func allowBothActions(_ client: any TestClientProtocol, constraints: String = "{}") async throws {
        for (action, body) in [
            ("gmail.send", #"{"approval":"required","approval_timeout_seconds":3600,"constraints":\#(constraints)}"#),
            ("task.create", #"{"approval":"auto"}"#),
        ] {
            // Setup, not the subject: a 503 (a 2 s database timeout on a machine running
            // every suite at once) is retried as a client would, and anything else fails
            // the test that asked, not the whole test process.
            let put = {
                try await client.execute(
                    uri: "/v1/workspaces/acme/policies/\(action)", method: .put, headers: bearer(self.adminKey),
                    body: ByteBuffer(string: body))
            }
            var response = try await put()
            for _ in 0..<3 where response.status == .serviceUnavailable {
                try await Task.sleep(for: .milliseconds(500))
                response = try await put()
            }
            guard response.status == .ok else {
                throw FixtureError("policy \(action): \(response.status) \(String(buffer: response.body))")
            }
        }
    }

    func submit(
        _ client: any TestClientProtocol, key: String?, body: String, workspace: String = "acme", credential: String? = nil
    ) async throws -> TestResponse {
        var headers = bearer(credential ?? adminKey)
        headers[.contentType] = "application/json"
        if let key { headers[.idempotencyKey] = key }
        return try await client.execute(
            uri: "/v1/workspaces/\(workspace)/jobs", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func count(_ sql: String) async throws -> Int { try await db.count(sql) }

    func execute(_ sql: String) async throws { try await db.execute(sql) }
}

let emailBody = #"{"action":"gmail.send","params":{"to":["ann@example.com"],"subject":"Quarterly report","text":"Attached."}}"#
let taskBody = #"{"action":"task.create","params":{"title":"Call Ann","labels":["sales"]}}"#

/// A fixture's setup request did not succeed; the test that asked fails with this.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
