import GateCore

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

    /// Per source: the tokens, and the refusals not written since its last row (a
    /// source that owes such a count is not forgotten).
    private let buckets: KeyedTokenBuckets<Int>

    /// The bucket of sources beyond `capacity` (and of requests without an address).
    static var sharedKey: String { KeyedTokenBuckets<Int>.sharedKey }

    /// `capacity`: sources tracked at once; past it, new sources share one bucket.
    init(perMinute: Int, burst: Int, capacity: Int = 10_000) {
        buckets = KeyedTokenBuckets(perMinute: perMinute, burst: burst, capacity: capacity, fresh: 0) { unaudited in unaudited > 0 }
    }

    func admit(_ source: String?, now: ContinuousClock.Instant = .now) -> Admission {
        buckets.update(source ?? Self.sharedKey, now: now) { bucket in
            guard bucket.tokens >= 1 else {
                bucket.extra += 1
                return .skip
            }
            bucket.tokens -= 1
            defer { bucket.extra = 0 }
            return .record(unauditedBefore: bucket.extra)
        }
    }

    var trackedAddresses: Int { buckets.count }
}
