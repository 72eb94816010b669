import NIOConcurrencyHelpers

/// At most `limit` holders at once in this replica, and at most `perKey` of them with
/// one key (a workspace, a principal); a caller over either is refused, not queued.
/// Audit exports and verifications each hold a pooled Postgres connection (or a
/// client's pace) while they run, and event streams and long-polls a task each: without
/// a limit a few callers could take them all, and without the per-key one a single
/// tenant could starve the others.
final class ConcurrencyLimit: Sendable {
    let limit: Int
    let perKey: Int
    private struct Counts {
        var total = 0
        var byKey: [String: Int] = [:]
    }
    private let inUse = NIOLockedValueBox(Counts())

    init(_ limit: Int, perKey: Int? = nil) {
        self.limit = limit
        self.perKey = min(perKey ?? limit, limit)
    }

    enum Refusal: Error, Equatable {
        /// `limit` places are held in this replica.
        case replicaFull
        /// `perKey` places are held with this key.
        case keyFull
    }

    /// A held place, or nil when `limit` are held (or `perKey` with `key`). The place
    /// is given back when the last reference to the slot goes, whichever way the work
    /// ends (a streamed response the client never read included).
    func acquire(key: String = "") -> Slot? {
        try? place(key: key).get()
    }

    /// A held place, or which limit refused it.
    func place(key: String) -> Result<Slot, Refusal> {
        let refusal = inUse.withLockedValue { counts -> Refusal? in
            guard counts.total < limit else { return .replicaFull }
            guard counts.byKey[key, default: 0] < perKey else { return .keyFull }
            counts.total += 1
            counts.byKey[key, default: 0] += 1
            return nil
        }
        if let refusal { return .failure(refusal) }
        return .success(Slot(limit: self, key: key))
    }

    /// A held place, or a 429 (`Retry-After: 5`) whose detail says which limit is full:
    /// `keyFull` when the caller's own share is taken, `replicaFull` when the replica's is.
    func placeOrTooManyRequests(key: String, keyFull: @autoclosure () -> String, replicaFull: @autoclosure () -> String) throws -> Slot {
        switch place(key: key) {
        case .success(let slot):
            return slot
        case .failure(let refusal):
            var problem = Problem(.tooManyRequests, detail: refusal == .keyFull ? keyFull() : replicaFull())
            problem.headers[.retryAfter] = "5"
            throw problem
        }
    }

    /// Places held now (all keys).
    var held: Int { inUse.withLockedValue { $0.total } }

    fileprivate func release(key: String) {
        inUse.withLockedValue { counts in
            counts.total -= 1
            let left = counts.byKey[key, default: 1] - 1
            counts.byKey[key] = left > 0 ? left : nil
        }
    }

    final class Slot: Sendable {
        private let limit: ConcurrencyLimit
        private let key: String

        fileprivate init(limit: ConcurrencyLimit, key: String) {
            self.limit = limit
            self.key = key
        }

        deinit { limit.release(key: key) }
    }
}
