import NIOConcurrencyHelpers

/// At most `limit` holders at once; a caller over the limit is refused, not queued.
/// Audit exports and verifications each hold a pooled Postgres connection for as long
/// as they run, so without a limit a few of them could take the whole pool.
final class ConcurrencyLimit: Sendable {
    let limit: Int
    private let inUse = NIOLockedValueBox(0)

    init(_ limit: Int) {
        self.limit = limit
    }

    /// A held place, or nil when `limit` are held. The place is given back when the
    /// last reference to the slot goes, whichever way the work ends (a streamed
    /// response the client never read included).
    func acquire() -> Slot? {
        let granted = inUse.withLockedValue { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        return granted ? Slot(limit: self) : nil
    }

    fileprivate func release() {
        inUse.withLockedValue { $0 -= 1 }
    }

    final class Slot: Sendable {
        private let limit: ConcurrencyLimit

        fileprivate init(limit: ConcurrencyLimit) {
            self.limit = limit
        }

        deinit { limit.release() }
    }
}
