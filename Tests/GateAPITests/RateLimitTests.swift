import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Redis
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

    // MARK: submissions: the charge rides with the idempotency claim

    @Test func everySubmissionIsChargedExactlyOnceWhateverItsAnswer() async throws {
        // One request a minute after a burst of 20: nothing refills during the test.
        try await AuthFixture.with(environment: ["RATE_LIMIT_PER_MINUTE": "1", "RATE_LIMIT_BURST": "20", "WORKSPACE_RATE_LIMIT_PER_MINUTE": "100000"]) { fixture, client in
            try await fixture.allowBothActions(client)  // with the admin key: its own budget
            let writer = try await fixture.identity.token(TestIdentity.claims(sub: "wanda", ws: ["acme": ["jobs:write"]]))
            var answers: [(HTTPResponse.Status, String?)] = []
            func submit(key: String?, body: String) async throws {
                let response = try await fixture.submit(client, key: key, body: body, credential: writer)
                answers.append((response.status, response.headers[.rateLimitRemaining]))
            }
            try await submit(key: "once", body: taskBody)  // 201
            try await submit(key: "once", body: taskBody)  // 200 replay
            try await submit(key: "once", body: emailBody)  // 422 key reused
            try await submit(key: "bad", body: #"{"action":"task.create","params":{}}"#)  // 422
            try await submit(key: "bad", body: #"{"action":"#)  // 400 malformed
            try await submit(key: nil, body: taskBody)  // 400 no key
            #expect(answers.map(\.0) == [.created, .ok, .unprocessableContent, .unprocessableContent, .badRequest, .badRequest])
            #expect(answers.map(\.1) == ["19", "18", "17", "16", "15", "14"])
        }
    }

    @Test func aSubmissionPastTheLimitIsRefusedBeforeAnythingIsWritten() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: [
            "RATE_LIMIT_PER_MINUTE": "1", "RATE_LIMIT_BURST": "3", "WORKSPACE_RATE_LIMIT_PER_MINUTE": "100000", "REDIS_URL": redis.url, "REDIS_KEY_PREFIX": "gw:",
        ]) { fixture, client in
            try await fixture.allowBothActions(client)  // with the admin key: its own budget
            let writer = try await fixture.identity.token(TestIdentity.claims(sub: "wanda", ws: ["acme": ["jobs:write"]]))
            for key in ["first", "spend", "spend-more"] {
                #expect(try await fixture.submit(client, key: key, body: taskBody, credential: writer).status == .created)
            }
            let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
            let claimsBefore = try await direct.send("KEYS", "gw:idem:*")

            let limited = try await fixture.submit(client, key: "second", body: taskBody, credential: writer)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(limited.headers[.rateLimitRemaining] == "0")
            // Refused with an audit row when allowed (unknown action, policy not set, key reused): past the limit, 429 and no row.
            let refusals = [
                #"{"action":"calendar.create","params":{}}"#, #"{"action":"task.create","params":{}}"#,
            ]
            for body in refusals {
                #expect(try await fixture.submit(client, key: "third", body: body, credential: writer).status == .tooManyRequests)
            }
            #expect(try await fixture.submit(client, key: "first", body: emailBody, credential: writer).status == .tooManyRequests)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 3)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.refused'") == 0)
            #expect(try await direct.send("KEYS", "gw:idem:*") == claimsBefore)
            await direct.shutdown()

            // A principal without jobs:write, past its own limit: 429, and no authz.denied row either.
            let reader = try await fixture.identity.token(TestIdentity.claims(sub: "rita", ws: ["acme": ["jobs:read"]]))
            let denied = try await fixture.submit(client, key: "r1", body: taskBody, credential: reader)
            #expect(denied.status == .forbidden)
            #expect(denied.headers[.rateLimitRemaining] == "2")
            for _ in 0..<2 { #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(reader)).status == .ok) }
            #expect(try await fixture.submit(client, key: "r2", body: taskBody, credential: reader).status == .tooManyRequests)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'authz.denied'") == 1)
        }
        await redis.stop()
    }

    @Test func aSubmissionOrReplayIsOneRedisRoundTrip() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["REDIS_URL": redis.url, "REDIS_KEY_PREFIX": "gw:"]) { fixture, client in
            try await fixture.allowBothActions(client)
            // The first script call may load the script (NOSCRIPT, then EVAL): before watching.
            #expect(try await fixture.submit(client, key: "warm-up", body: taskBody).status == .created)
            let log = "\(TestEnvironment.serversDirectory)/monitor-\(redis.port).txt"
            let monitor = try ChildProcess(["redis-cli", "-p", String(redis.port), "monitor"], stdoutPath: log)
            let watching = ContinuousClock.now + .seconds(10)
            while (try? String(contentsOfFile: log, encoding: .utf8))?.hasPrefix("OK") != true && ContinuousClock.now < watching {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await fixture.submit(client, key: "watched", body: taskBody).status == .created)
            #expect(try await fixture.submit(client, key: "watched", body: taskBody).status == .ok)
            // A marker through the same server: everything before it in the log is complete.
            let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
            try await direct.set("gw:marker", to: "1")
            await direct.shutdown()
            var lines: [Substring] = []
            while ContinuousClock.now < watching {
                lines = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n") ?? []
                if lines.contains(where: { $0.contains(#""gw:marker""#) }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            await monitor.stop()
            // Commands clients sent (not those the scripts ran) that touch a limit or a claim.
            let sent = lines.filter { !$0.contains("[0 lua]") && ($0.contains(#""gw:rl:"#) || $0.contains(#""gw:idem:"#)) }
            #expect(sent.count == 2, "\(sent)")
            for line in sent {
                #expect(line.contains(#""EVALSHA""#) && line.contains(#""gw:rl:default:"#) && line.contains(#""gw:idem:acme:"#), "\(line)")
            }
        }
        await redis.stop()
    }
}
