import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GateAPI

@Suite struct RateLimitTests {
    let path = "/v1/workspaces/acme/api-keys"

    @Test func limitIsEnforcedWithHeadersAndRecovers() async throws {
        // 20 a minute: a token every 3 s, so a slow, loaded machine still finishes the
        // burst and the refused requests well inside one interval.
        // One request per 10 s after the burst: slow enough that a loaded machine cannot
        // refill a token while the test hammers, fast enough to watch it recover.
        try await AuthFixture.with(environment: ["RATE_LIMIT_PER_MINUTE": "6", "RATE_LIMIT_BURST": "3"]) { fixture, client in
            for expected in [2, 1, 0] {
                let ok = try await client.execute(uri: path, method: .get, headers: bearer(fixture.adminKey))
                #expect(ok.status == .ok)
                #expect(ok.headers[.rateLimitLimit] == "6")
                #expect(ok.headers[.rateLimitRemaining] == String(expected))
                #expect(ok.headers[.rateLimitPolicy] == "\"default\";q=6;w=60;burst=3")
            }
            // Spoofed forwarding headers change nothing: limits are keyed on the principal.
            let limited = try await client.execute(
                uri: path, method: .get, headers: [.authorization: "Bearer \(fixture.adminKey)", HTTPField.Name("X-Forwarded-For")!: "10.1.2.3"])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.contentType] == "application/problem+json")
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap(Int.init))
            #expect((1...10).contains(retryAfter))
            #expect(limited.headers[.rateLimitRemaining] == "0")

            // Refused requests are not charged: hammering while limited does not push recovery back.
            for _ in 0..<5 {
                #expect(try await client.execute(uri: path, method: .get, headers: bearer(fixture.adminKey)).status == .tooManyRequests)
            }
            try await Task.sleep(for: .seconds(retryAfter) + .milliseconds(100))
            #expect(try await client.execute(uri: path, method: .get, headers: bearer(fixture.adminKey)).status == .ok)
        }
    }

    @Test func refusalsPastTheLimiterCarryTheHeadersToo() async throws {
        try await AuthFixture.with(environment: ["RATE_LIMIT_PER_MINUTE": "600"]) { fixture, client in
            // Counted against the budget, so the answer says so, problem or not.
            let missing = try await client.execute(
                uri: "/v1/workspaces/acme/jobs/job_00000000000000000000000000", method: .get, headers: bearer(fixture.adminKey))
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
            #expect(missing.headers[.rateLimitLimit] == "600")
            #expect(missing.headers[.rateLimitPolicy] != nil)
            // Refused before the limiter (not a member): not counted, no headers.
            let stranger = try await client.execute(uri: "/v1/workspaces/zz-other/jobs", method: .get, headers: bearer(fixture.adminKey))
            #expect(stranger.status == .notFound)
            #expect(stranger.headers[.rateLimitLimit] == nil)
        }
    }

    @Test func eachPrincipalHasItsOwnBudget() async throws {
        try await AuthFixture.with(environment: ["RATE_LIMIT_PER_MINUTE": "6", "RATE_LIMIT_BURST": "2"]) { fixture, client in
            let token = try await fixture.identity.token(TestIdentity.claims(ws: ["acme": ["keys:admin"]]))
            for _ in 0..<2 { #expect(try await client.execute(uri: path, method: .get, headers: bearer(fixture.adminKey)).status == .ok) }
            #expect(try await client.execute(uri: path, method: .get, headers: bearer(fixture.adminKey)).status == .tooManyRequests)
            #expect(try await client.execute(uri: path, method: .get, headers: bearer(token)).status == .ok)
        }
    }

    @Test func approvalsHaveTheirOwnBudget() async throws {
        try await AuthFixture.with(environment: ["RATE_LIMIT_PER_MINUTE": "20", "RATE_LIMIT_BURST": "2", "APPROVALS_RATE_LIMIT_PER_MINUTE": "600"]) { fixture, client in
            for _ in 0..<2 { #expect(try await client.execute(uri: path, method: .get, headers: bearer(fixture.adminKey)).status == .ok) }
            #expect(try await client.execute(uri: path, method: .get, headers: bearer(fixture.adminKey)).status == .tooManyRequests)
            // The same principal, spent on the default budget, still reaches the approvals queue.
            let queue = try await client.execute(uri: "/v1/workspaces/acme/approvals", method: .get, headers: bearer(fixture.adminKey))
            #expect(queue.status == .ok)
            #expect(queue.headers[.rateLimitPolicy]?.hasPrefix("\"approvals\";q=600") == true)
        }
    }

    @Test func theWorkspaceLimitCapsAllPrincipalsTogether() async throws {
        // 10 a minute: a burst of 1, then one every 6 s — time enough for six requests on a
        // loaded machine (at 30 a minute a token came back within the loop).
        try await AuthFixture.with(environment: ["RATE_LIMIT_PER_MINUTE": "600", "RATE_LIMIT_BURST": "50", "WORKSPACE_RATE_LIMIT_PER_MINUTE": "10"]) { fixture, client in
            let token = try await fixture.identity.token(TestIdentity.claims(ws: ["acme": ["keys:admin"]]))
            var statuses: [HTTPResponse.Status] = []
            for i in 0..<6 {
                let credential = i % 2 == 0 ? fixture.adminKey : token
                statuses.append(try await client.execute(uri: path, method: .get, headers: bearer(credential)).status)
            }
            // The workspace allows a burst of 10/10 = 1 in all, whoever asks: the second
            // principal is refused although its own budget is untouched.
            #expect(statuses == [.ok, .tooManyRequests, .tooManyRequests, .tooManyRequests, .tooManyRequests, .tooManyRequests])
        }
    }
}
