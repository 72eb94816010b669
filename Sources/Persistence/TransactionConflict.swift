import Gate
import PostgresNIO

/// Postgres aborted a statement because of another transaction: a deadlock (SQLSTATE
/// 40P01) or a serialization failure (40001, also raised by migration 0017 when the
/// history purge freed a job insert's key while it ran). Nothing of it was written, and
/// the same work is expected to succeed when tried again. Writers take their row locks in one
/// order (a job's approval before the job; a batch's idempotency keys sorted), so a
/// deadlock should not happen; this is the net under that rule, not a replacement.
public enum TransactionConflict {
    public static func isConflict(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return false
        }
        return state == "40P01" || state == "40001"
    }

    /// Few: a conflict needs two writers at the same rows at the same moment.
    static let attempts = 5

    /// Runs `body` (one statement or one whole transaction) again while it fails with a
    /// conflict, after a short random pause so that the two sides do not meet again;
    /// the last attempt's conflict is thrown (answered 503, never 500).
    public static func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch where attempt < attempts && isConflict(error) {
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(10 * attempt))))
                attempt += 1
            }
        }
    }
}
