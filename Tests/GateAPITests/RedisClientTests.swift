import Foundation
import NIOCore
import Testing

@testable import Redis

/// Against the real Redis that scripts/test starts (and some of the tests' own).
@Suite struct RedisClientTests {
    let prefix = "test:\(UUID().uuidString):"

    func client(url: String = TestEnvironment.redisURL, _ adjust: (inout RedisConfiguration) -> Void = { _ in })
        throws -> RedisClient
    {
        var config = try RedisConfiguration(url: url)
        adjust(&config)
        return try RedisClient(configuration: config)
    }

    @Test func setIfAbsentWithExpiry() async throws {
        let redis = try client()
        defer { Task { await redis.shutdown() } }
        let key = prefix + "nx"
        let started = ContinuousClock.now
        #expect(try await redis.set(key, to: "first", onlyIfAbsent: true, expiresInSeconds: 120))
        #expect(try await !redis.set(key, to: "second", onlyIfAbsent: true, expiresInSeconds: 120))
        #expect(try await redis.get(key) == "first")
        let ttl = try await redis.ttl(key)
        // 120 s less the whole seconds that passed since the SET (many on a loaded machine).
        let elapsed = Int((ContinuousClock.now - started).components.seconds)
        #expect((119 - elapsed...120).contains(ttl))
    }

    @Test func setIfAbsentOrGetClaimsOnceAndReturnsTheHolder() async throws {
        let redis = try client()
        defer { Task { await redis.shutdown() } }
        let key = prefix + "nxget"
        let started = ContinuousClock.now
        #expect(try await redis.setIfAbsentOrGet(key, to: "first", expiresInSeconds: 120) == nil)
        #expect(try await redis.setIfAbsentOrGet(key, to: "second", expiresInSeconds: 120) == "first")
        #expect(try await redis.get(key) == "first")
        let elapsed = Int((ContinuousClock.now - started).components.seconds)
        #expect((119 - elapsed...120).contains(try await redis.ttl(key)))
    }

    @Test func getDeleteExpireTTLIncrement() async throws {
        let redis = try client()
        defer { Task { await redis.shutdown() } }
        let key = prefix + "k"
        #expect(try await redis.get(key) == nil)
        #expect(try await redis.ttl(key) == -2)
        try await redis.set(key, to: "v")
        #expect(try await redis.ttl(key) == -1)
        #expect(try await redis.expire(key, seconds: 30))
        #expect((29...30).contains(try await redis.ttl(key)))
        #expect(try await redis.delete(key, prefix + "absent") == 1)
        #expect(try await redis.get(key) == nil)
        #expect(try await redis.increment(prefix + "n") == 1)
        #expect(try await redis.increment(prefix + "n") == 2)
    }

    @Test func binaryValuesRoundTrip() async throws {
        let redis = try client()
        defer { Task { await redis.shutdown() } }
        let value: [UInt8] = [0, 13, 10, 255, 36, 42]
        _ = try await redis.send([Array("SET".utf8), Array((prefix + "bin").utf8), value])
        #expect(try await redis.send("GET", prefix + "bin") == .bulkString(value))
    }

    @Test func errorRepliesAreThrown() async throws {
        let redis = try client()
        defer { Task { await redis.shutdown() } }
        try await redis.set(prefix + "s", to: "text")
        await #expect(throws: RedisError.self) { try await redis.increment(prefix + "s") }
        // The connection stays usable after an error reply.
        #expect(try await redis.get(prefix + "s") == "text")
    }

    @Test func evalRunsLuaAndReloadsAfterScriptFlush() async throws {
        let redis = try client()
        defer { Task { await redis.shutdown() } }
        let script = RedisScript("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])")
        let first = try await redis.eval(script, keys: [prefix + "a", prefix + "b"], arguments: ["x", "5"])
        #expect(first == .integer(5))
        _ = try await redis.send("SCRIPT", "FLUSH")
        let second = try await redis.eval(script, keys: [prefix + "a", prefix + "b"], arguments: ["y", "5"])
        #expect(second == .integer(10))
        #expect(try await redis.get(prefix + "a") == "y")
    }

    @Test func pipelineReturnsRepliesInOrder() async throws {
        let redis = try client()
        defer { Task { await redis.shutdown() } }
        let replies = try await redis.pipeline([
            ["SET", prefix + "p", "1"], ["INCR", prefix + "p"], ["GET", prefix + "p"], ["HGET", prefix + "p", "f"],
        ])
        #expect(replies.count == 4)
        #expect(replies[0] == .simpleString("OK"))
        #expect(replies[1] == .integer(2))
        #expect(replies[2].string == "2")
        guard case .error(let message) = replies[3] else { Issue.record("expected WRONGTYPE"); return }
        #expect(message.hasPrefix("WRONGTYPE"))
    }

    @Test func manyConcurrentTasksShareThePool() async throws {
        let redis = try client { $0.poolSize = 2 }
        defer { Task { await redis.shutdown() } }
        let key = prefix + "counter"
        try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<1000 { group.addTask { try await redis.increment(key) } }
            var seen = Set<Int64>()
            for try await value in group { seen.insert(value) }
            // Every reply went to the task that sent the command: 1000 distinct values.
            #expect(seen == Set(1...1000))
        }
        #expect(try await redis.get(key) == "1000")
    }

    @Test func unreachableServerIsAClearError() async throws {
        // Port 1: privileged, so nothing listens there and no ephemeral port can be it.
        let port = 1
        // A refusal must fail at once, not after the connect timeout (made long here so
        // the two cannot be confused on a loaded machine).
        let redis = try client(url: "redis://127.0.0.1:\(port)") { $0.connectTimeout = .seconds(60) }
        defer { Task { await redis.shutdown() } }
        let started = ContinuousClock.now
        var caught: RedisError?
        do { try await redis.ping() } catch { caught = error }
        guard case .unavailable(let why)? = caught else {
            Issue.record("expected .unavailable, got \(String(describing: caught))")
            return
        }
        #expect(why.contains("127.0.0.1:\(port)"))
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func reconnectsAfterTheServerRestarts() async throws {
        let server = try await RedisServerProcess()
        let redis = try client(url: server.url) { $0.poolSize = 1 }
        defer { Task { await redis.shutdown() } }
        try await redis.set("k", to: "before")
        await server.stop()
        await #expect(throws: RedisError.self) { try await redis.get("k") }
        try await server.start()
        // A fresh server (no persistence): the key is gone, but the client works again.
        #expect(try await redis.get("k") == nil)
        try await redis.set("k", to: "after")
        #expect(try await redis.get("k") == "after")
        await server.stop()
    }

    @Test func slowReplyTimesOutAndTheClientRecovers() async throws {
        let redis = try client { $0.commandTimeout = .seconds(1); $0.poolSize = 1 }
        defer { Task { await redis.shutdown() } }
        let started = ContinuousClock.now
        await #expect(throws: RedisError.timeout) { try await redis.send("BLPOP", prefix + "never", "30") }
        #expect(ContinuousClock.now - started < .seconds(10))
        try await redis.ping()
    }

    @Test func authAndDatabaseSelectionFromTheURL() async throws {
        let server = try await RedisServerProcess(extraArguments: ["--requirepass", "s3cret"])
        let redis = try client(url: "redis://:s3cret@127.0.0.1:\(server.port)/2")
        defer { Task { await redis.shutdown() } }
        try await redis.set("in-db-2", to: "yes")
        let other = try client(url: "redis://:s3cret@127.0.0.1:\(server.port)/0")
        defer { Task { await other.shutdown() } }
        #expect(try await other.get("in-db-2") == nil)
        #expect(try await redis.get("in-db-2") == "yes")

        let wrong = try client(url: "redis://:nope@127.0.0.1:\(server.port)")
        defer { Task { await wrong.shutdown() } }
        await #expect(throws: RedisError.self) { try await wrong.ping() }
        await server.stop()
    }
}
