import Gate
import PostgresNIO

/// The history purge (SPEC §4 History TTL): terminal jobs go after
/// APPROVAL_HISTORY_TTL_SECONDS or beyond MAX_APPROVAL_HISTORY per workspace, and each
/// one whose Idempotency-Key is still within IDEMPOTENCY_TTL_SECONDS leaves an
/// idempotency record behind (migration 0014).
extension JobStore {
    /// Spelled exactly as the predicates of the partial indexes `jobs_terminal_updated` and
    /// `jobs_history`, which the purge's statements need.
    static let terminalStatuses = "('succeeded', 'failed', 'rejected', 'expired', 'cancelled')"

    /// Deletes terminal jobs (their approvals and votes go with them) last changed
    /// more than `ttlSeconds` ago, then those beyond the newest `maxPerWorkspace` of
    /// each workspace, `batch` rows per statement; returns how many went. A deleted job
    /// whose key is younger than `idempotencyTTLSeconds` leaves an idempotency record in
    /// the same statement, so a retry still cannot create a second job (also one whose
    /// insert was under way as the job went: migration 0017); records past their expiry
    /// go last.
    public func purgeHistory(ttlSeconds: Int, maxPerWorkspace: Int, batch: Int, idempotencyTTLSeconds: Int) async throws -> Int {
        let byAge = Self.ageStatement(ttlSeconds: ttlSeconds, batch: batch, idempotencyTTLSeconds: idempotencyTTLSeconds)
        let cap = Self.historyCapStatement(
            maxPerWorkspace: maxPerWorkspace, batch: batch, idempotencyTTLSeconds: idempotencyTTLSeconds)
        let purged = try await deleteInBatches(byAge, batch: batch) + deleteInBatches(cap, batch: batch)
        _ = try await deleteInBatches(Self.expiredRecordsStatement(batch: batch), batch: batch)
        return purged
    }

    /// Runs `statement`, which deletes up to `batch` rows and returns how many, until it
    /// deletes fewer; returns the total.
    fileprivate func deleteInBatches(_ statement: PostgresQuery, batch: Int) async throws -> Int {
        var total = 0
        while true {
            let rows = try await client.query(statement, logger: logger)
            var count = 0
            for try await (n) in rows.decode(Int.self) { count = n }
            total += count
            if count < batch { return total }
        }
    }

    /// What a purge's `gone` returns for `keepIdempotencyRecords`.
    static let purgedColumns = "workspace_id, idempotency_key, payload_hash, id, status, created_at"

    /// The `kept` step of a purge: a record for every deleted job (`gone`) whose key is
    /// still within the TTL, which counts from the job's creation. A record already there
    /// for the key can only be an expired one (a live record keeps the key from a new job).
    static func keepIdempotencyRecords(ttlSeconds: Int) -> String {
        """
        INSERT INTO idempotency_records (workspace_id, idempotency_key, payload_hash, job_id, job_status, expires_at)
            SELECT workspace_id, idempotency_key, payload_hash, id, status, created_at + make_interval(secs => \(ttlSeconds))
            FROM gone WHERE created_at + make_interval(secs => \(ttlSeconds)) > now()
            ON CONFLICT (workspace_id, idempotency_key) DO UPDATE SET payload_hash = excluded.payload_hash,
                job_id = excluded.job_id, job_status = excluded.job_status, expires_at = excluded.expires_at
        """
    }

    /// Deletes up to `batch` terminal jobs last changed more than `ttlSeconds` ago
    /// (keeping idempotency records, see `purgeHistory`); returns how many.
    static func ageStatement(ttlSeconds: Int, batch: Int, idempotencyTTLSeconds: Int) -> PostgresQuery {
        """
        WITH gone AS (
            DELETE FROM jobs WHERE id IN (
                SELECT id FROM jobs WHERE status IN \(unescaped: Self.terminalStatuses)
                  AND updated_at < now() - make_interval(secs => \(ttlSeconds))
                LIMIT \(batch))
            RETURNING \(unescaped: Self.purgedColumns)
        ), kept AS (
            \(unescaped: Self.keepIdempotencyRecords(ttlSeconds: idempotencyTTLSeconds)))
        SELECT count(*)::int FROM gone
        """
    }

    /// Deletes up to `batch` terminal jobs beyond the newest `maxPerWorkspace` of their
    /// workspace (keeping idempotency records, see `purgeHistory`); returns how many. It
    /// ranks every workspace's history, every pass, in every replica: in the order of the
    /// `jobs_history` index (migration 0011), which an index-only scan reads without
    /// touching the jobs.
    static func historyCapStatement(maxPerWorkspace: Int, batch: Int, idempotencyTTLSeconds: Int) -> PostgresQuery {
        """
        WITH ranked AS (
            SELECT id, row_number() OVER (PARTITION BY workspace_id ORDER BY id DESC) AS position
            FROM jobs WHERE status IN \(unescaped: Self.terminalStatuses)
        ), gone AS (
            DELETE FROM jobs WHERE id IN (SELECT id FROM ranked WHERE position > \(maxPerWorkspace) LIMIT \(batch))
            RETURNING \(unescaped: Self.purgedColumns)
        ), kept AS (
            \(unescaped: Self.keepIdempotencyRecords(ttlSeconds: idempotencyTTLSeconds)))
        SELECT count(*)::int FROM gone
        """
    }

    /// Deletes up to `batch` idempotency records past their expiry; returns how many.
    static func expiredRecordsStatement(batch: Int) -> PostgresQuery {
        """
        WITH gone AS (
            DELETE FROM idempotency_records WHERE (workspace_id, idempotency_key) IN (
                SELECT workspace_id, idempotency_key FROM idempotency_records WHERE expires_at <= now() LIMIT \(batch))
            RETURNING 1)
        SELECT count(*)::int FROM gone
        """
    }
}
