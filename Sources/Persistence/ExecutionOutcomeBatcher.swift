import GateCore
import PostgresNIO

/// Records the outcomes that executors finish together in one statement
/// (`ExecutionStore.record(_:executor:)`): a replica's executors would otherwise spend
/// a round trip and a commit per job, which is what bounded how fast they drained a
/// backlog of quick jobs (bench/RESULTS.md "Executor throughput").
public struct ExecutionOutcomeBatcher: Sendable {
    let batcher: Batcher<ExecutionOutcomeBatcher.Input, Bool>

    public struct Input: Sendable {
        let outcome: ExecutionStore.Outcome
        let claim: ExecutionClaim
    }

    /// `limit` bounds each batch's statement (see `Batcher`).
    public init(
        store: ExecutionStore, executor: String, maxInFlight: Int = 2, maxBatch: Int = 64,
        limit: Batcher<ExecutionOutcomeBatcher.Input, Bool>.Limit? = nil
    ) {
        batcher = Batcher(maxInFlight: maxInFlight, maxBatch: maxBatch, limit: limit) { inputs in
            await Self.write(inputs, to: store, executor: executor)
        }
    }

    /// `ExecutionStore.record(_:for:executor:)` of one outcome, written with whatever
    /// else is waiting: whether the claim still held its lease.
    public func record(_ outcome: ExecutionStore.Outcome, for claim: ExecutionClaim) async throws -> Bool {
        try await batcher.submit(Input(outcome: outcome, claim: claim))
    }

    /// One outcome's refused value must not leave the others unrecorded (their leases
    /// would run out and they would run again).
    static func write(_ inputs: [Input], to store: ExecutionStore, executor: String) async -> [Result<Bool, any Error>] {
        await writeBatch(
            inputs,
            together: { try await store.record(inputs.map { ($0.outcome, $0.claim) }, executor: executor).map { .success($0) } },
            alone: { try await store.record($0.outcome, for: $0.claim, executor: executor) })
    }
}
