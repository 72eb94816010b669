import GateCore
import Synchronization

/// How many refusals from one source this replica writes to the audit log: a token
/// bucket per source (`AUTH_DENIAL_AUDIT_PER_MINUTE`, burst `AUTH_DENIAL_AUDIT_BURST`).
/// A source is a client address for failed authentications, and a principal
/// (`principal <kind>:<id>`, never mistaken for an address) for its requests to
/// workspaces it is not a member of — the two refusals that come before rate limiting. Without it, anyone could grow the append-only log without
/// bound with requests carrying no key at all (one load-test run with a bad key wrote
/// an `auth.denied` row per request, as fast as the server answered), and any valid key
/// by naming other workspaces. Every refusal still gets
/// its 401 / 404 (and a 401 its log line), and is counted in
/// `gateapi_auth_denials_unaudited_total` when it is not written; the next row written
/// for that source says how many were left out before it (`unaudited_before`), so the
/// log still shows the volume.
final class DenialAuditBudget: Sendable {
    enum Admission: Equatable {
        /// Write the row; `unauditedBefore` refusals of this source were not written since the last one.
        case record(unauditedBefore: Int)
        case skip
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
        var unaudited: Int

        /// The tokens it holds at `now`, refilled since `updated`.
        func tokens(at now: ContinuousClock.Instant, rate: Double, burst: Double) -> Double {
            min(burst, tokens + rate * (now - updated).seconds)
        }
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var lastSweep: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    let perMinute: Int
    let burst: Int
    /// Sources tracked at once; past it, new sources share one bucket.
    let capacity: Int

    /// The bucket of sources beyond `capacity` (and of requests without an address).
    static let sharedKey = "*"

    init(perMinute: Int, burst: Int, capacity: Int = 10_000) {
        self.perMinute = perMinute
        self.burst = burst
        self.capacity = capacity
    }

    func admit(_ source: String?, now: ContinuousClock.Instant = .now) -> Admission {
        let rate = Double(perMinute) / 60
        let burst = Double(self.burst)
        let capacity = self.capacity
        return state.withLock { state in
            var key = source ?? Self.sharedKey
            if state.buckets[key] == nil, state.buckets.count >= capacity {
                // Forget the sources whose buckets have refilled and owe no count: they
                // would start full anyway. At most once a second (it reads every bucket);
                // meanwhile newcomers share a bucket.
                if state.lastSweep.map({ now - $0 >= .seconds(1) }) ?? true {
                    state.lastSweep = now
                    state.buckets = state.buckets.filter { _, bucket in
                        bucket.unaudited > 0 || bucket.tokens(at: now, rate: rate, burst: burst) < burst
                    }
                }
                if state.buckets.count >= capacity { key = Self.sharedKey }
            }
            var bucket = state.buckets[key] ?? Bucket(tokens: burst, updated: now, unaudited: 0)
            bucket.tokens = bucket.tokens(at: now, rate: rate, burst: burst)
            bucket.updated = now
            let admission: Admission
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                admission = .record(unauditedBefore: bucket.unaudited)
                bucket.unaudited = 0
            } else {
                bucket.unaudited += 1
                admission = .skip
            }
            state.buckets[key] = bucket
            return admission
        }
    }

    var trackedAddresses: Int { state.withLock { $0.buckets.count } }
}
