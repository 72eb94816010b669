import Crypto
import Foundation
import GateCore
import Redis

/// The Redis half of idempotent submission (SPEC §4): a workspace-scoped key claimed
/// with `SET NX EX`, holding the payload hash, then the job id once it exists.
/// Postgres's unique (workspace, key) constraint is the other half: whatever Redis
/// loses (a flush, a failover, an abandoned claim), the database still refuses a
/// second job, and the request is answered from the existing row.
struct IdempotencyGuard: Sendable {
    let redis: RedisClient
    let ttlSeconds: Int
    let keyPrefix: String
    /// A claim older than this whose request never finished (the replica died) no
    /// longer makes retries wait: they go to Postgres, which decides.
    let inFlightWindowMilliseconds: Int64 = 30_000

    enum Claim: Equatable {
        /// This request owns the key; `token` proves it when releasing.
        case claimed(token: String)
        /// Another request with the same key and payload is still running: 409.
        case inFlight
        /// Done before: the job to replay.
        case done(jobID: String)
        /// The key was used with another payload: 422.
        case mismatch
        /// An abandoned claim: go ahead, the database backstop decides.
        case stale
    }

    func redisKey(workspace: String, key: String) -> String {
        // Hashed: client keys may be long or contain anything printable.
        let digest = Hex.encode(SHA256.hash(data: Data(key.utf8)))
        return "\(keyPrefix)idem:\(workspace):\(digest)"
    }

    func claim(workspace: String, key: String, payloadHash: String) async throws(RedisError) -> Claim {
        let redisKey = redisKey(workspace: workspace, key: key)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let token = "p|\(payloadHash)|\(now)|\(UUID().uuidString)"
        guard let current = try await redis.setIfAbsentOrGet(redisKey, to: token, expiresInSeconds: ttlSeconds) else {
            return .claimed(token: token)
        }
        let parts = current.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[1] == payloadHash else { return .mismatch }
        switch parts[0] {
        case "d": return .done(jobID: String(parts[2]))
        case "p":
            let claimedAt = Int64(parts[2]) ?? 0
            return now - claimedAt < inFlightWindowMilliseconds ? .inFlight : .stale
        default: return .mismatch
        }
    }

    /// Records the job id under the key for the full TTL, from now.
    func complete(workspace: String, key: String, payloadHash: String, jobID: String) async throws(RedisError) {
        try await redis.set(redisKey(workspace: workspace, key: key), to: "d|\(payloadHash)|\(jobID)", expiresInSeconds: ttlSeconds)
    }

    static let releaseScript = RedisScript(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end")

    /// Gives the key back after a failure, if it is still this request's claim, so a
    /// retry is not told "in flight".
    func release(workspace: String, key: String, token: String) async {
        _ = try? await redis.eval(Self.releaseScript, keys: [redisKey(workspace: workspace, key: key)], arguments: [token])
    }
}
