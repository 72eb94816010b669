import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GateAPI

@Suite struct HTTPAppTests {
    @Test func healthIsOKWithARequestID() async throws {
        try await withTestApp { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.json["status"] as? String == "ok")
            let id = try #require(response.headers[.requestID])
            #expect(id.count == 32)
            #expect(id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            let next = try await client.execute(uri: "/health", method: .get)
            #expect(next.headers[.requestID] != id)
        }
    }

    @Test func callerRequestIDIsEchoedOnlyWhenSafe() async throws {
        try await withTestApp { client in
            let echoed = try await client.execute(uri: "/health", method: .get, headers: [.requestID: "trace-abc.123_X"])
            #expect(echoed.headers[.requestID] == "trace-abc.123_X")
            let replaced = try await client.execute(uri: "/health", method: .get, headers: [.requestID: "bad id\u{7f}<script>"])
            #expect(replaced.headers[.requestID] != "bad id\u{7f}<script>")
            #expect(replaced.headers[.requestID]?.count == 32)
        }
    }

    @Test func unknownRouteIsProblemJSON404() async throws {
        try await withTestApp { client in
            let response = try await client.execute(uri: "/v1/nothing/here", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
            let body = response.json
            #expect(body["status"] as? Int == 404)
            #expect(body["title"] as? String == "Not Found")
            #expect(body["type"] as? String == "https://gateapi.dev/problems/404")
            #expect((body["detail"] as? String)?.isEmpty == false)
            #expect(body["request_id"] as? String == response.headers[.requestID])
        }
    }

    @Test func aServedPathWithAnotherMethodIs405WithAllow() async throws {
        try await withTestApp { client in
            let health = try await client.execute(uri: "/health", method: .delete)
            #expect(health.status == .methodNotAllowed)
            #expect(health.headers[.allow] == "GET")
            #expect(health.headers[.contentType] == "application/problem+json")
            #expect(health.json["status"] as? Int == 405)
            let jobs = try await client.execute(uri: "/v1/workspaces/acme/jobs/", method: .patch)
            #expect(jobs.status == .methodNotAllowed)
            #expect(jobs.headers[.allow] == "GET, POST")
            let job = try await client.execute(uri: "/v1/workspaces/acme/jobs/job_x", method: .put)
            #expect(job.headers[.allow] == "GET")
            // A literal segment wins over a parameter, as in the router: `approvals/bulk`
            // serves POST only, not also the GET of `approvals/{id}`.
            let bulk = try await client.execute(uri: "/v1/workspaces/acme/approvals/bulk", method: .options)
            #expect(bulk.status == .methodNotAllowed && bulk.headers[.allow] == "POST")
            let approval = try await client.execute(uri: "/v1/workspaces/acme/approvals/apr_x", method: .options)
            #expect(approval.headers[.allow] == "GET")
            // Paths the API does not serve are still 404, whatever the method.
            #expect(try await client.execute(uri: "/v1/workspaces/acme/nothing", method: .patch).status == .notFound)
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs/job_x/extra", method: .get).status == .notFound)
        }
    }

    @Test func bodyOverTheLimitIs413ProblemJSON() async throws {
        try await withTestApp(environment: ["MAX_BODY_BYTES": "1024"]) { client in
            let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: 1025)
            let response = try await client.execute(uri: "/health", method: .post, body: big)
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.json["status"] as? Int == 413)
            let small = try await client.execute(uri: "/health", method: .post, body: ByteBuffer(string: "{}"))
            #expect(small.status == .methodNotAllowed)
        }
    }

    @Test func readyReportsBothDependencies() async throws {
        try await withTestApp { client in
            let response = try await client.execute(uri: "/ready", method: .get)
            #expect(response.status == .ok)
            #expect(response.json["checks"] as? [String: String] == ["postgres": "ok", "redis": "ok"])
        }
    }

    @Test func readyTurns503WhileRedisIsDownAndRecovers() async throws {
        let redis = try await RedisServerProcess()
        try await withTestApp(environment: ["REDIS_URL": redis.url, "REDIS_TIMEOUT_MS": "500"]) { client in
            #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)
            await redis.stop()
            let down = try await client.execute(uri: "/ready", method: .get)
            #expect(down.status == .serviceUnavailable)
            #expect(down.headers[.contentType] == "application/problem+json")
            #expect(down.json["checks"] as? [String: String] == ["postgres": "ok", "redis": "unavailable"])
            #expect((down.json["detail"] as? String)?.contains("redis") == true)
            // Liveness does not depend on Redis.
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            try await redis.start()
            #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)
        }
        await redis.stop()
    }

    @Test func readyNamesPostgresWhenItIsUnreachable() async throws {
        let port = try TestEnvironment.freePort()
        try await withTestApp(databaseURL: "postgres://gate@127.0.0.1:\(port)/none?sslmode=disable") { client in
            let started = ContinuousClock.now
            let response = try await client.execute(uri: "/ready", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.json["checks"] as? [String: String] == ["postgres": "unavailable", "redis": "ok"])
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func metricsCountRequestsByRouteTemplateAndStatus() async throws {
        try await withTestApp { client in
            for _ in 0..<3 { _ = try await client.execute(uri: "/health", method: .get) }
            _ = try await client.execute(uri: "/no-such-thing-\(UUID())", method: .get)
            for verb in ["PROPFIND", "MKCOL"] { _ = try await client.execute(uri: "/health", method: .init(verb)!) }
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            #expect(text.contains(#"http_requests_total{method="GET",route="/health",status="200"} 3"#))
            #expect(text.contains(#"http_request_duration_seconds_count{method="GET",route="/health",status="200"} 3"#))
            // Unknown paths share one label rather than one series per path.
            #expect(!text.contains("no-such-thing"))
            #expect(text.contains(#"status="404""#))
            // Methods outside the usual REST set (WebDAV here) share one label too.
            #expect(!text.contains("PROPFIND") && !text.contains("MKCOL"))
            #expect(text.contains(#"method="other""#))
        }
    }
}

/// `DATABASE_TIMEOUT_MS` is the limit a request waits for Postgres.
@Suite struct DatabaseTimeoutTests {
    @Test func aStalledPostgresIsA503AtTheConfiguredLimit() async throws {
        try await TestDatabase.withFresh { db in
            let key = try await AuthFixture.seed(db)
            var url = try #require(URLComponents(string: db.url))
            let relay = try await TCPRelay(to: try #require(url.port))
            url.port = relay.port
            try await withTestApp(databaseURL: try #require(url.string), environment: ["DATABASE_TIMEOUT_MS": "700"]) { client in
                let path = "/v1/workspaces/acme/jobs?limit=1"
                // Opens the pool's connection (and caches the key). Under the whole suite's
                // start-up load even this can miss 700 ms: it is tried again until it works.
                var warm = try await client.execute(uri: path, method: .get, headers: bearer(key)).status
                for _ in 0..<40 where warm != .ok {
                    try await Task.sleep(for: .milliseconds(500))
                    warm = try await client.execute(uri: path, method: .get, headers: bearer(key)).status
                }
                try #require(warm == .ok)
                // The pool's open connections now carry nothing (a stalled server); the
                // request takes one of them and is answered at the limit, not the test's 10 s.
                relay.freeze()
                let started = ContinuousClock.now
                let response = try await client.execute(uri: path, method: .get, headers: bearer(key))
                let elapsed = ContinuousClock.now - started
                await relay.cut()
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                #expect(elapsed >= .milliseconds(700) && elapsed < .seconds(5), "\(elapsed)")
            }
        }
    }
}
