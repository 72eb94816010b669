import Approvals
import Auth
import Foundation
import Gate
import GateCore
import Persistence

/// The submission store as the server runs it: inserts and reads gathered into shared
/// statements (`JobInsertBatcher`, `JobLookupBatcher`), each call under the dependency
/// timeout, so the use case never waits on a database that does not answer.
struct TimedJobSubmissions: JobSubmissionStore, PostgresTimed {
    let jobs: JobStore
    let inserts: JobInsertBatcher
    let lookups: JobLookupBatcher
    let timeout: Duration

    func insert(_ insert: JobInsert) async throws -> JobInsertOutcome {
        // Files make a statement of megabytes: written alone, under a longer timeout
        // (the bytes must reach Postgres), never in a batch with small submissions.
        if !insert.files.bytes.isEmpty {
            return try await timed(max(timeout, .seconds(60))) { try await jobs.insert(insert) }
        }
        return try await timed { try await inserts.insert(insert) }
    }

    func find(workspaceID: String, id: String) async throws -> JobRecord? {
        try await timed { try await lookups.find(workspaceID: workspaceID, id: id) }
    }

    func idempotencyRecord(workspaceID: String, idempotencyKey: String) async throws -> IdempotencyRecord? {
        try await timed {
            try await jobs.idempotencyRecord(workspaceID: workspaceID, idempotencyKey: idempotencyKey)
        }
    }
}

/// Votes as the server runs them: each step under the dependency timeout.
struct TimedApprovalVoting: ApprovalVotingStore, PostgresTimed {
    let store: ApprovalStore
    let timeout: Duration

    func ballot(workspaceID: String, id: String) async throws -> ApprovalBallot? {
        try await timed { try await store.ballot(workspaceID: workspaceID, id: id) }
    }

    func record(_ vote: VoteWrite) async throws -> (votedAt: Date, decidedAt: Date?)? {
        try await timed { try await store.record(vote) }
    }

    func refuse(_ refusal: VoteRefusal, decision: VoteDecision, approval: ApprovalRecord, actor: AuditActor) async throws
        -> ApprovalRecord
    {
        try await timed {
            try await store.refuse(refusal, decision: decision, approval: approval, actor: actor)
        }
    }
}

/// Key administration as the server runs it: each transaction under the dependency timeout.
struct TimedKeyAdministration: KeyAdministrationStore, PostgresTimed {
    let store: APIKeyStore
    let timeout: Duration

    func insert(_ key: NewAPIKey, actor: AuditActor) async throws -> APIKeyRecord {
        try await timed { try await store.insert(key, actor: actor) }
    }

    func change(
        _ change: KeyChange, workspaceID: String, id: String, actor: AuditActor,
        allowed: @escaping @Sendable (APIKeyRecord) -> KeyRefusal?
    ) async throws -> APIKeyRecord {
        try await timed {
            try await store.change(change, workspaceID: workspaceID, id: id, actor: actor, allowed: allowed)
        }
    }

    func record(_ event: AuditEvent) async throws {
        try await timed { try await store.record(event) }
    }
}

/// Cancellation as the server runs it: the transaction under the dependency timeout.
struct TimedJobCancellation: JobCancellationStore, PostgresTimed {
    let store: ApprovalStore
    let timeout: Duration

    func cancel(
        workspaceID: String, jobID: String, by canceller: String, actor: AuditActor,
        allowed: @escaping @Sendable (JobRecord) -> Bool
    ) async throws -> JobCancellation? {
        try await timed {
            try await store.cancel(workspaceID: workspaceID, jobID: jobID, by: canceller, actor: actor, allowed: allowed)
        }
    }
}

/// Dead letters as the server runs them: the requeue (`ExecutionStore`) and the read
/// (`JobStore`), each under the dependency timeout.
struct TimedDeadLetters: DeadLetterStore, PostgresTimed {
    let execution: ExecutionStore
    let jobs: JobStore
    let timeout: Duration

    func requeue(workspaceID: String, jobID: String, confirmResend: Bool, actor: AuditActor) async throws -> JobRecord? {
        try await timed {
            try await execution.requeue(workspaceID: workspaceID, jobID: jobID, confirmResend: confirmResend, actor: actor)
        }
    }

    func find(workspaceID: String, id: String) async throws -> JobRecord? {
        try await timed { try await jobs.find(workspaceID: workspaceID, id: id) }
    }
}

/// Policy changes as the server runs them: the write under the dependency timeout.
struct TimedPolicyStoring: PolicyStoring, PostgresTimed {
    let store: PolicyStore
    let timeout: Duration

    func put(workspaceID: String, policy: Policy, actor: AuditActor) async throws -> Policy {
        try await timed { try await store.put(workspaceID: workspaceID, policy: policy, actor: actor) }
    }
}

/// Webhook secrets as the server runs them: each call under the dependency timeout.
struct TimedWebhookSecrets: WebhookSecretStoring, PostgresTimed {
    let store: WebhookSecretStore
    let timeout: Duration

    func rotate(workspaceID: String, id: String, sealed: String, overlapSeconds: Int, createdBy: String, actor: AuditActor)
        async throws -> StoredWebhookSecret
    {
        try await timed {
            try await store.rotate(
                workspaceID: workspaceID, id: id, sealed: sealed, overlapSeconds: overlapSeconds, createdBy: createdBy, actor: actor)
        }
    }

    func list(workspaceID: String) async throws -> [StoredWebhookSecret] {
        try await timed { try await store.list(workspaceID: workspaceID) }
    }

    func revoke(workspaceID: String, id: String, actor: AuditActor) async throws {
        try await timed { try await store.revoke(workspaceID: workspaceID, id: id, actor: actor) }
    }
}

/// Gmail credentials as the server runs them: each call under the dependency timeout.
struct TimedGmailCredentials: GmailCredentialStoring, PostgresTimed {
    let store: GmailCredentialStore
    let timeout: Duration

    func find(workspaceID: String) async throws -> StoredGmailCredentials? {
        try await timed { try await store.find(workspaceID: workspaceID) }
    }

    func put(workspaceID: String, kind: String, sealed: String, actor: AuditActor) async throws -> StoredGmailCredentials {
        try await timed {
            try await store.put(workspaceID: workspaceID, kind: kind, sealed: sealed, actor: actor)
        }
    }

    func delete(workspaceID: String, actor: AuditActor) async throws -> Bool {
        try await timed { try await store.delete(workspaceID: workspaceID, actor: actor) }
    }
}

/// The audit chain as the server runs it. A seal step and a page have the request
/// limit, so an outage is a quick 503; chaining a backlog and the chain check, which
/// may read the whole log, get `longTimeout`. The export's stream is bounded by its
/// own deadlines (`AuditController`), batch by batch.
struct TimedAuditChain: AuditChainStore, PostgresTimed {
    let store: AuditStore
    let timeout: Duration
    let longTimeout: Duration

    func sealStep(workspaceID: String, lockWaitMilliseconds: Int) async throws -> AuditSealStep {
        try await timed {
            try await store.sealStep(workspaceID: workspaceID, lockWaitMilliseconds: lockWaitMilliseconds)
        }
    }

    func sealCommitted(workspaceID: String) async throws {
        try await timed(longTimeout) { try await store.sealCommitted(workspaceID: workspaceID) }
    }

    func list(workspaceID: String, filter: AuditFilter, after position: Int64, limit: Int) async throws -> [AuditRecord] {
        try await timed {
            try await store.list(workspaceID: workspaceID, filter: filter, after: position, limit: limit)
        }
    }

    func export(workspaceID: String, filter: AuditFilter, _ sink: ([AuditRecord]) async throws -> Void) async throws -> Int64 {
        try await store.export(workspaceID: workspaceID, filter: filter, sink)
    }

    func verify(workspaceID: String) async throws -> AuditVerification {
        try await timed(longTimeout) { try await store.verify(workspaceID: workspaceID) }
    }
}

/// Console sign-ins and sessions under the request's dependency timeout.
struct TimedConsoleSessions: ConsoleSessionStoring, PostgresTimed {
    let store: ConsoleSessionStore
    let timeout: Duration

    func createLink(tokenHash: [UInt8], identity: ConsoleIdentity, expiresAt: Date, createdBy: String, actor: AuditActor) async throws {
        try await timed { try await store.createLink(tokenHash: tokenHash, identity: identity, expiresAt: expiresAt, createdBy: createdBy, actor: actor) }
    }

    func startSession(
        fromLink tokenHash: [UInt8], sessionHash: [UInt8], csrfToken: String, lifetime: Duration, actor: AuditActor
    ) async throws -> Result<ConsoleIdentity, SignInLinkRefusal> {
        try await timed {
            try await store.startSession(fromLink: tokenHash, sessionHash: sessionHash, csrfToken: csrfToken, lifetime: lifetime, actor: actor)
        }
    }

    func startSession(
        for identity: ConsoleIdentity, sessionHash: [UInt8], csrfToken: String, lifetime: Duration, with method: String, actor: AuditActor
    ) async throws {
        try await timed {
            try await store.startSession(for: identity, sessionHash: sessionHash, csrfToken: csrfToken, lifetime: lifetime, with: method, actor: actor)
        }
    }

    func beginOIDCLogin(stateHash: [UInt8], nonce: String, codeVerifier: String, expiresAt: Date) async throws {
        try await timed { try await store.beginOIDCLogin(stateHash: stateHash, nonce: nonce, codeVerifier: codeVerifier, expiresAt: expiresAt) }
    }

    func finishOIDCLogin(stateHash: [UInt8]) async throws -> (nonce: String, codeVerifier: String)? {
        try await timed { try await store.finishOIDCLogin(stateHash: stateHash) }
    }

    func findSession(idHash: [UInt8], idleLimit: Duration) async throws -> ConsoleSession? {
        try await timed { try await store.findSession(idHash: idHash, idleLimit: idleLimit) }
    }

    func touchSession(idHash: [UInt8]) async throws {
        try await timed { try await store.touchSession(idHash: idHash) }
    }

    func endSession(idHash: [UInt8], actor: AuditActor) async throws -> Bool {
        try await timed { try await store.endSession(idHash: idHash, actor: actor) }
    }
}

/// The reviewer directory as the server runs it: each call under the dependency timeout.
struct TimedReviewerDirectory: ReviewerDirectoryStoring, ReviewerStandingLookup, PostgresTimed {
    let store: ReviewerDirectoryStore
    let timeout: Duration

    func put(workspaceID: String, entry: DirectoryEntry, actor: AuditActor) async throws -> DirectoryEntry {
        try await timed { try await store.put(workspaceID: workspaceID, entry: entry, actor: actor) }
    }

    func remove(workspaceID: String, person: String, actor: AuditActor) async throws -> Bool {
        try await timed { try await store.remove(workspaceID: workspaceID, person: person, actor: actor) }
    }

    func list(workspaceID: String) async throws -> [DirectoryEntry] {
        try await timed { try await store.list(workspaceID: workspaceID) }
    }

    func find(workspaceID: String, person: String) async throws -> DirectoryEntry? {
        try await timed { try await store.find(workspaceID: workspaceID, person: person) }
    }

    func delegate(workspaceID: String, person: String, delegation: Delegation?, actor: AuditActor) async throws
        -> DelegationChange
    {
        try await timed { try await store.delegate(workspaceID: workspaceID, person: person, delegation: delegation, actor: actor) }
    }

    func standings(workspaceID: String, person: String) async throws -> [Standing] {
        try await timed { try await store.standings(workspaceID: workspaceID, person: person) }
    }
}

struct TimedDecisionLinks: DecisionLinkStoring, PostgresTimed {
    let store: DecisionLinkStore
    let timeout: Duration

    func create(tokenHash: [UInt8], link: DecisionLink, deliveryID: Int64?) async throws {
        try await timed { try await store.create(tokenHash: tokenHash, link: link, deliveryID: deliveryID) }
    }

    func find(tokenHash: [UInt8]) async throws -> DecisionLink? {
        try await timed { try await store.find(tokenHash: tokenHash) }
    }

    func spend(tokenHash: [UInt8], via channel: String, actor: AuditActor) async throws -> DecisionLink? {
        try await timed { try await store.spend(tokenHash: tokenHash, via: channel, actor: actor) }
    }

    func refuse(_ link: DecisionLink, because refusal: DecisionLinkRefusal, via channel: String, actor: AuditActor) async throws {
        try await timed { try await store.refuse(link, because: refusal, via: channel, actor: actor) }
    }
}
