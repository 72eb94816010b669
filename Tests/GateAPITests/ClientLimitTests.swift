import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// What an anonymous or misbehaving client can hold: connections (read timeouts),
/// authentication attempts (per address), `/metrics`; and which address is the client's.
@Suite struct ClientLimitTests {
    // MARK: HTTP read timeouts

    /// Half a request head, then nothing: the server closes the connection at
    /// HTTP_READ_TIMEOUT_SECONDS, and serves other connections meanwhile.
    @Test func aStalledRequestHeadIsClosedAtTheReadTimeout() async throws {
        try await withTestApp(environment: ["HTTP_READ_TIMEOUT_SECONDS": "2"]) { client in
            let port = try #require(client.port)
            // The wait ends as soon as the server closes (about 2 s); the long limit is
            // for a loaded CI machine, where 15 s once ran out.
            let closed = try await RawConnection.closesByItself(port: port, within: .seconds(60)) { outbound in
                try await outbound.write(ByteBuffer(string: "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: "))
                #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            }
            #expect(closed == "", "the server should close without an answer")
        }
    }

    /// A body sent a byte at a time never lets the idle timer fire; the body itself must
    /// have arrived within HTTP_READ_TIMEOUT_SECONDS.
    @Test func aTricklingRequestBodyLosesItsConnectionAtTheReadTimeout() async throws {
        try await AuthFixture.with(environment: ["HTTP_READ_TIMEOUT_SECONDS": "2"]) { fixture, client in
            let port = try #require(client.port)
            let body = String(repeating: " ", count: 190) + #"{"a":1}"#
            let closed = try await RawConnection.closesByItself(port: port, within: .seconds(15)) { outbound in
                try await outbound.write(ByteBuffer(string: """
                    POST /v1/workspaces/acme/jobs HTTP/1.1\r
                    Host: localhost\r
                    Authorization: Bearer \(fixture.adminKey)\r
                    Idempotency-Key: trickle\r
                    Content-Type: application/json\r
                    Content-Length: \(body.utf8.count)\r
                    \r

                    """))
                // A byte every 0.4 s: 80 s for the whole body, had the server waited.
                for byte in body.utf8 {
                    try await outbound.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: .milliseconds(400))
                }
            }
            #expect(closed != nil)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 0)
        }
    }

    // MARK: failed authentications per client address

    @Test func anAddressPastItsFailedAuthenticationsIsRefusedBeforeItsCredentialIsRead() async throws {
        try await AuthFixture.with(environment: ["AUTH_FAILURES_PER_MINUTE": "1", "AUTH_FAILURES_BURST": "3"]) { fixture, client in
            // Well-formed (the checksum holds), so each one would be looked up.
            let madeUp = APIKeyToken.generate().value
            for _ in 0..<3 {
                #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(madeUp)).status == .unauthorized)
            }
            let refused = try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(APIKeyToken.generate().value))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.contentType] == "application/problem+json")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(refused.headers[.rateLimitRemaining] == "0")
            #expect(refused.headers[.rateLimitPolicy] == #""auth_failures";q=1;w=60;burst=3"#)
            // The address waits whatever it presents (its credential is not even looked at).
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(fixture.adminKey)).status == .tooManyRequests)
            let reasons = try await fixture.auditRows(action: "auth.denied").map { $0.2 }
            #expect(reasons.filter { $0 == "key_unknown" }.count == 3)
            #expect(reasons.contains("auth_failures_exceeded"))
        }
    }

    /// A made-up key id is looked up once, not on every request that repeats it.
    @Test func unknownKeyIDsAreRememberedAsUnknown() async throws {
        let base = CountingKeyLookup()
        let cache = CachedAPIKeyLookup(base, ttl: .seconds(10))
        for _ in 0..<5 { #expect(try await cache.find(id: "key_unknown") == nil) }
        #expect(base.finds == 1)
        cache.invalidate(id: "key_unknown")
        _ = try await cache.find(id: "key_unknown")
        #expect(base.finds == 2)
        // Bounded: when full it starts over.
        let small = CachedAPIKeyLookup(base, ttl: .seconds(10), unknownCapacity: 2)
        for id in ["a", "b", "c", "a"] { _ = try await small.find(id: id) }
        #expect(base.finds == 6)
    }

    // MARK: client address behind trusted proxies

    @Test func behindATrustedProxyTheForwardedClientIsLimitedAndAudited() async throws {
        let environment = ["AUTH_FAILURES_PER_MINUTE": "1", "AUTH_FAILURES_BURST": "2", "TRUSTED_PROXIES": "127.0.0.0/8, 10.0.0.0/8"]
        try await AuthFixture.with(environment: environment) { fixture, client in
            func get(_ credential: String, forwardedFor: String) async throws -> HTTPResponse.Status {
                var headers = bearer(credential)
                headers[ClientAddress.forwardedFor] = forwardedFor
                return try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: headers).status
            }
            let madeUp = APIKeyToken.generate().value
            // The client's address as the load balancer (10.1.2.3, trusted) saw it; what
            // the client itself put in front of it is not believed.
            for _ in 0..<2 { #expect(try await get(madeUp, forwardedFor: "198.51.100.1, 203.0.113.7, 10.1.2.3") == .unauthorized) }
            #expect(try await get(fixture.adminKey, forwardedFor: "203.0.113.7") == .tooManyRequests)
            // Other clients behind the same proxy are not held up by it.
            #expect(try await get(fixture.adminKey, forwardedFor: "203.0.113.8, 10.1.2.3") == .ok)
            let ips = try await fixture.db.withClient { postgres in
                let rows = try await postgres.query("SELECT actor_ip FROM audit_events WHERE action = 'auth.denied' ORDER BY seq")
                var ips: [String?] = []
                for try await (ip) in rows.decode(String?.self) { ips.append(ip) }
                return ips
            }
            #expect(ips == ["203.0.113.7", "203.0.113.7", "203.0.113.7"])
        }
    }

    @Test func anUntrustedPeersForwardedForIsIgnored() async throws {
        try await AuthFixture.with(environment: ["AUTH_FAILURES_PER_MINUTE": "1", "AUTH_FAILURES_BURST": "2"]) { fixture, client in
            func get(_ credential: String, forwardedFor: String) async throws -> HTTPResponse.Status {
                var headers = bearer(credential)
                headers[ClientAddress.forwardedFor] = forwardedFor
                return try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: headers).status
            }
            let madeUp = APIKeyToken.generate().value
            for _ in 0..<2 { #expect(try await get(madeUp, forwardedFor: "203.0.113.7") == .unauthorized) }
            // A new X-Forwarded-For does not make a new client: the peer is what counts.
            #expect(try await get(fixture.adminKey, forwardedFor: "203.0.113.8") == .tooManyRequests)
            let ips = try await fixture.db.withClient { postgres in
                let rows = try await postgres.query("SELECT actor_ip FROM audit_events WHERE action = 'auth.denied' ORDER BY seq")
                var ips: [String?] = []
                for try await (ip) in rows.decode(String?.self) { ips.append(ip) }
                return ips
            }
            #expect(ips.allSatisfy { $0 == "127.0.0.1" } && ips.count == 3, "\(ips)")
        }
    }

    @Test func theForwardedChainIsWalkedFromTheRight() throws {
        let trusted = ["10.0.0.0/8", "fd00::/8", "::ffff:192.0.2.0/120"].compactMap(IPNetwork.init)
        #expect(trusted.count == 3)
        func resolve(_ peer: String, _ header: [String]) -> String? { ClientAddress.resolve(peer: peer, forwardedFor: header, trusted: trusted) }
        #expect(resolve("10.0.0.1", ["1.1.1.1, 2.2.2.2, 10.9.9.9"]) == "2.2.2.2")
        #expect(resolve("10.0.0.1", ["1.1.1.1", "2.2.2.2"]) == "2.2.2.2")
        #expect(resolve("10.0.0.1", ["10.1.1.1, 10.2.2.2"]) == "10.1.1.1")
        #expect(resolve("10.0.0.1", []) == "10.0.0.1")
        #expect(resolve("10.0.0.1", ["1.1.1.1, garbage, 10.2.2.2"]) == "10.2.2.2")
        #expect(resolve("fd12::1", ["2001:db8::7"]) == "2001:db8::7")
        #expect(resolve("192.0.2.9", ["2001:db8::7"]) == "2001:db8::7")
        #expect(resolve("::ffff:192.0.2.9", ["2001:db8::7"]) == "2001:db8::7")
        #expect(resolve("8.8.8.8", ["1.1.1.1"]) == "8.8.8.8")
        #expect(IPNetwork("10.0.0.0/33") == nil && IPNetwork("nonsense") == nil && IPNetwork("::/129") == nil)
        #expect(IPNetwork("0.0.0.0/0")?.contains([203, 0, 113, 1]) == true)
    }

    // MARK: /metrics

    @Test func metricsCanBeProtectedWithAToken() async throws {
        let token = "metrics-token-0123456789"
        try await withTestApp(environment: ["METRICS_TOKEN": token]) { client in
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/metrics", method: .get, headers: bearer("metrics-token-wrong")).status == .unauthorized)
            let allowed = try await client.execute(uri: "/metrics", method: .get, headers: bearer(token))
            #expect(allowed.status == .ok)
            #expect(String(buffer: allowed.body).contains("http_requests_total"))
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
        try await withTestApp { client in
            let open = try await client.execute(uri: "/metrics", method: .get)
            #expect(open.status == .ok, "without METRICS_TOKEN /metrics stays open")
        }
    }
}

final class CountingKeyLookup: APIKeyLookup, Sendable {
    private let count = NIOLockedValueBox(0)
    var finds: Int { count.withLockedValue { $0 } }
    func find(id: String) async throws -> APIKeyRecord? {
        count.withLockedValue { $0 += 1 }
        return nil
    }
    func touchLastUsed(id: String) async throws {}
}

/// A plain TCP connection for what HTTP clients will not do (stall half-way).
enum RawConnection {
    /// Connects, runs `send`, and returns what the server sent before it closed the
    /// connection, or nil if it was still open after `limit`.
    static func closesByItself(
        port: Int, within limit: Duration,
        _ send: @escaping @Sendable (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void
    ) async throws -> String? {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    var received = ""
                    // Ended or reset: closed either way.
                    do { for try await chunk in inbound { received += String(buffer: chunk) } } catch {}
                    return received
                }
                group.addTask {
                    // Writes fail once the server has closed: that is the point.
                    try? await send(outbound)
                    try await Task.sleep(for: limit)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }
    }
}
