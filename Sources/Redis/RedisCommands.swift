import Crypto
import Foundation

/// Typed helpers for the commands GateAPI uses. Keys and values are UTF-8 text.
extension RedisClient {
    public func ping() async throws(RedisError) {
        let reply = try await send("PING")
        guard reply.string == "PONG" else { throw .protocolError("unexpected PING reply") }
    }

    public func get(_ key: String) async throws(RedisError) -> String? {
        try await send("GET", key).string
    }

    /// `SET key value [NX] [EX seconds]`; false when NX found the key already set.
    @discardableResult
    public func set(_ key: String, to value: String, onlyIfAbsent: Bool = false, expiresInSeconds: Int? = nil)
        async throws(RedisError) -> Bool
    {
        var command = ["SET", key, value]
        if onlyIfAbsent { command.append("NX") }
        if let expiresInSeconds { command += ["EX", String(expiresInSeconds)] }
        return try await send(command.map { Array($0.utf8) }) != .null
    }

    /// Sets `key` if it is absent and returns nil, or returns the value it already
    /// holds: `SET key value NX GET EX seconds`, atomic and one round trip (Redis 7+).
    /// A server that refuses NX with GET (Redis < 7) gets `SET NX` then `GET`.
    public func setIfAbsentOrGet(_ key: String, to value: String, expiresInSeconds: Int) async throws(RedisError) -> String? {
        do {
            return try await send(["SET", key, value, "NX", "GET", "EX", String(expiresInSeconds)].map { Array($0.utf8) }).string
        } catch .server(let message) where message.hasPrefix("ERR syntax") {
            for _ in 0..<3 {
                if try await set(key, to: value, onlyIfAbsent: true, expiresInSeconds: expiresInSeconds) { return nil }
                // Gone between SET and GET (expired or deleted): try to set it again.
                if let current = try await get(key) { return current }
            }
            throw .server("\(key) kept vanishing between SET NX and GET")
        }
    }

    @discardableResult
    public func delete(_ keys: String...) async throws(RedisError) -> Int {
        Int(try await send((["DEL"] + keys).map { Array($0.utf8) }).integer ?? 0)
    }

    @discardableResult
    public func expire(_ key: String, seconds: Int) async throws(RedisError) -> Bool {
        try await send("EXPIRE", key, String(seconds)).integer == 1
    }

    /// Seconds to live; -1 without expiry, -2 when the key does not exist.
    public func ttl(_ key: String) async throws(RedisError) -> Int {
        Int(try await send("TTL", key).integer ?? -2)
    }

    public func increment(_ key: String) async throws(RedisError) -> Int64 {
        guard let value = try await send("INCR", key).integer else { throw .protocolError("INCR reply") }
        return value
    }

    /// Runs a Lua script by its SHA1 (`EVALSHA`), loading it with `EVAL` the first
    /// time a server has not seen it, so the script text crosses the wire once.
    public func eval(_ script: RedisScript, keys: [String] = [], arguments: [String] = []) async throws(RedisError)
        -> RESPValue
    {
        let tail = [String(keys.count)] + keys + arguments
        do {
            return try await send((["EVALSHA", script.sha1] + tail).map { Array($0.utf8) })
        } catch .server(let message) where message.hasPrefix("NOSCRIPT") {
            return try await send((["EVAL", script.source] + tail).map { Array($0.utf8) })
        }
    }
}

/// A Lua script with its SHA1 computed once.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Data(source.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
