/// The fast half of idempotent submission (SPEC §4): a workspace-scoped claim on an
/// Idempotency-Key, holding the payload hash and the id the job will have. Redis in the
/// server (`IdempotencyGuard`); the store's unique key is the durable half, so whatever
/// the claims lose, a second job is still refused.
public protocol IdempotencyClaims: Sendable {
    /// Claims `key` for the job that will be `jobID`.
    func claim(workspace: String, key: String, payloadHash: String, jobID: String) async throws -> IdempotencyClaim
    /// Records `jobID` under the key for the claims' whole TTL. Best effort: a miss
    /// leaves a stale claim, which the store answers.
    func complete(workspace: String, key: String, payloadHash: String, jobID: String) async
    /// Gives the key back after a failure, if it still holds this request's claim.
    func release(workspace: String, key: String, token: String) async
}

public enum IdempotencyClaim: Sendable, Equatable {
    /// This request owns the key; `token` proves it when releasing.
    case claimed(token: String)
    /// Another request claimed the key with the same payload: its job, if that job
    /// exists by now, is the answer; if not, that request is still running (`fresh`:
    /// 409) or died (not `fresh`: go ahead, the store decides).
    /// `jobID` is nil for claims written before job ids were part of them.
    case claimedBefore(jobID: String?, fresh: Bool)
    /// Done before (written after a stale claim or a loss of claims): the job to replay.
    case done(jobID: String)
    /// The key was used with another payload.
    case mismatch
}
