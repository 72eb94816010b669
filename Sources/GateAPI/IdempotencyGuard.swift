import Crypto
import Foundation
import Gate
import GateCore
import Logging
import Redis

/// The Redis half of idempotent submission (SPEC §4): a workspace-scoped key claimed
/// with `SET NX EX` (and read back if taken) in the same round trip as the request's
/// rate-limit charge, holding the payload hash and the id the job will have. Once
/// that job exists the claim answers replays as it is — no second write to mark it
/// done: a retry looks the id up in Postgres, and only if the job is not there yet is
/// the first request still in flight.
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

    typealias Claim = IdempotencyClaim

    func redisKey(workspace: String, key: String) -> String {
        // Hashed: client keys may be long or contain anything printable.
        let digest = Hex.encode(SHA256.hash(data: Data(key.utf8)))
        return "\(keyPrefix)idem:\(workspace):\(digest)"
    }

    /// Claims the key for the job that will be `jobID`; with the request's deferred
    /// rate-limit charge in the same round trip when there is one (429 if refused,
    /// and then nothing is claimed).
    func claim(
        workspace: String, key: String, payloadHash: String, jobID: String, charging rateLimit: RateLimitCharge? = nil
    ) async throws -> Claim {
        let redisKey = redisKey(workspace: workspace, key: key)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let token = "p|\(payloadHash)|\(now)|\(jobID)"
        let current =
            if let rateLimit {
                try await rateLimit.takeThenSetIfAbsentOrGet(redisKey, to: token, expiresInSeconds: ttlSeconds)
            } else {
                try await redis.setIfAbsentOrGet(redisKey, to: token, expiresInSeconds: ttlSeconds)
            }
        guard let current else {
            return .claimed(token: token)
        }
        let parts = current.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[1] == payloadHash else { return .mismatch }
        switch parts[0] {
        case "d": return .done(jobID: String(parts[2]))
        case "p":
            let claimedAt = Int64(parts[2]) ?? 0
            let claimedJob = parts.count >= 4 && parts[3].hasPrefix("job_") ? String(parts[3]) : nil
            return .claimedBefore(jobID: claimedJob, fresh: now - claimedAt < inFlightWindowMilliseconds)
        default: return .mismatch
        }
    }

    /// Records the job id under the key for the full TTL, from now: when the key's
    /// claim names another job (a stale claim, a Redis flush in between).
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

/// A request's idempotency claims: `IdempotencyGuard` with the request's deferred
/// rate-limit charge, which the claim takes in the same Redis round trip.
struct ChargedIdempotencyClaims: IdempotencyClaims {
    let keys: IdempotencyGuard
    let charge: RateLimitCharge?
    let logger: Logger

    func claim(workspace: String, key: String, payloadHash: String, jobID: String) async throws -> IdempotencyClaim {
        try await keys.claim(workspace: workspace, key: key, payloadHash: payloadHash, jobID: jobID, charging: charge)
    }

    func complete(workspace: String, key: String, payloadHash: String, jobID: String) async {
        do {
            try await keys.complete(workspace: workspace, key: key, payloadHash: payloadHash, jobID: jobID)
        } catch {
            // Best effort: the claim goes stale and the store answers retries.
            logger.warning("idempotency key not marked done", metadata: ["job_id": .string(jobID), "error": "\(error)"])
        }
    }

    func release(workspace: String, key: String, token: String) async {
        await keys.release(workspace: workspace, key: key, token: token)
    }
}
