import Gate
import Logging
import PostgresNIO

/// Reads and chains the audit log: the sealer, the query, the export and the check.
/// Writing events stays with `AuditLog`, in the transaction of the change it records.
public struct AuditStore: AuditChainStore {
    /// Events chained per seal call (one short transaction).
    public static let sealBatch = 1000

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Chains up to `max` committed events of the workspace; -1 when another session
    /// is sealing it and the lock did not come within `lockWaitMilliseconds`.
    @discardableResult
    public func seal(workspaceID: String, max: Int = sealBatch, lockWaitMilliseconds: Int = 0) async throws -> Int {
        let rows = try await client.query(
            "SELECT audit_seal(\(workspaceID), \(max)::int4, \(lockWaitMilliseconds)::int4)", logger: logger)
        for try await (count) in rows.decode(Int.self) { return count }
        return 0
    }

    public func sealStep(workspaceID: String, lockWaitMilliseconds: Int) async throws -> AuditSealStep {
        let count = try await seal(workspaceID: workspaceID, lockWaitMilliseconds: lockWaitMilliseconds)
        return count < 0 ? .busy : count < Self.sealBatch ? .caughtUp : .moreWaiting
    }

    /// Chains every event of the workspace committed so far (for verify and export,
    /// whose answers must not depend on how far the background sealer got).
    public func sealCommitted(workspaceID: String) async throws {
        while true {
            let count = try await seal(workspaceID: workspaceID, lockWaitMilliseconds: 10_000)
            if count < 0 { throw AuditStoreError.sealerBusy }
            if count < Self.sealBatch { return }
        }
    }

    /// Workspaces with events waiting to be chained, and how many each (one cheap
    /// query per background tick: the queue holds only what is not chained yet).
    public func unsealedByWorkspace(limit: Int = 1000) async throws -> [(workspace: String, count: Int)] {
        var result: [(workspace: String, count: Int)] = []
        let rows = try await client.query(
            "SELECT workspace_id, count(*)::int8 FROM audit_unsealed GROUP BY workspace_id LIMIT \(limit)", logger: logger)
        for try await (workspace, count) in rows.decode((String, Int).self) { result.append((workspace, count)) }
        return result
    }

    /// Sealed events in chain order after `position`, at most `limit`. Unfiltered, they
    /// are exactly the next `limit` positions (positions are dense), and saying so keeps a
    /// deep page cheap whatever the planner believes (see `export`); a filtered page
    /// cannot know how far its matches lie.
    public func list(workspaceID: String, filter: AuditFilter, after position: Int64, limit: Int) async throws
        -> [AuditRecord]
    {
        let (end, overflow) = position.addingReportingOverflow(Int64(limit))
        let through = filter == AuditFilter() && !overflow ? end : nil
        return try await Self.records(
            client.query(
                Self.page(workspaceID: workspaceID, filter: filter, after: position, through: through, limit: limit),
                logger: logger))
    }

    /// The workspace's sealed events matching `filter`, in chain order, handed to
    /// `sink` in batches: the chain up to its head when the export starts, however long
    /// the client takes. Returns how many.
    /// No transaction is held: each batch is one statement on a pooled connection, so a
    /// client that reads slowly holds neither a connection nor a snapshot (which would
    /// keep VACUUM from cleaning every table) between batches. It is still consistent:
    /// the chain and the events are append-only (triggers refuse UPDATE and DELETE), so
    /// positions 1 … head read the same whenever they are read.
    /// Each batch is the window of the next `batchSize` chain positions (positions are
    /// 1, 2, 3 … per workspace), so a batch costs the same wherever it is and whatever
    /// the planner believes: right after a bulk insert, before autovacuum's ANALYZE,
    /// `position > n ORDER BY position LIMIT k` was planned as a sort of everything
    /// after n, so each batch cost more the further the export got (bench/HISTORY.md
    /// "Fifth round").
    public func export(workspaceID: String, filter: AuditFilter, _ sink: ([AuditRecord]) async throws -> Void) async throws
        -> Int64
    {
        try await export(workspaceID: workspaceID, filter: filter, batchSize: 1000, sink)
    }

    func export(
        workspaceID: String, filter: AuditFilter, batchSize: Int,
        _ sink: ([AuditRecord]) async throws -> Void
    ) async throws -> Int64 {
        let client = self.client, logger = self.logger
        let head = try await client.withConnection { connection in
            try await Self.lastPosition(workspaceID: workspaceID, on: connection, logger: logger)
        }
        let window = Int64(batchSize)
        @Sendable func batch(after position: Int64) async throws -> [AuditRecord] {
            guard position < head else { return [] }
            return try await Self.records(
                client.query(
                    Self.page(workspaceID: workspaceID, filter: filter, after: position, through: min(position + window, head), limit: nil),
                    logger: logger))
        }
        var total: Int64 = 0
        var current = try await batch(after: 0)
        for position in stride(from: window, to: head + window, by: Int(window)) {
            // The next batch is read while this one is written: Postgres and the
            // encoding run on both cores at once instead of taking turns.
            async let next = batch(after: position)
            if !current.isEmpty { try await sink(current) }
            total += Int64(current.count)
            current = try await next
        }
        return total
    }

    /// Recomputes the workspace's chain from the stored events (after sealing what
    /// is committed), in one snapshot. See docs/audit.md for what each reason means.
    public func verify(workspaceID: String) async throws -> AuditVerification {
        try await client.withConnection { connection in
            try await connection.transaction(logger: logger) { tx in
                try await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                // The server stops on its own too: a client-side timeout does not cancel a running query.
                try await tx.query("SET LOCAL statement_timeout = '300s'", logger: logger)
                var result = AuditVerification(ok: true, eventsChecked: 0, unsealed: 0)
                let head = try await tx.query(
                    """
                    SELECT position, encode(hash, 'hex') FROM audit_chain WHERE workspace_id = \(workspaceID)
                    ORDER BY position DESC LIMIT 1
                    """, logger: logger)
                for try await (position, hash) in head.decode((Int64, String).self) {
                    result.headPosition = position
                    result.headHash = hash
                }
                result.eventsChecked = result.headPosition ?? 0
                // Window functions over the chain in position order; LIMIT 1 stops at the first problem.
                let bad = try await tx.query(
                    """
                    WITH chain AS (
                        SELECT c.position, c.seq, c.prev_hash, c.hash,
                               lag(c.hash) OVER (ORDER BY c.position) AS link,
                               row_number() OVER (ORDER BY c.position) AS expected,
                               e.seq IS NOT NULL AS present, e.workspace_id AS event_workspace, e AS event
                        FROM audit_chain c LEFT JOIN audit_events e ON e.seq = c.seq
                        WHERE c.workspace_id = \(workspaceID)
                    ), checked AS (
                        SELECT position, seq, expected, CASE
                            WHEN position <> expected THEN 'position_gap'
                            WHEN NOT present THEN 'event_missing'
                            WHEN event_workspace <> \(workspaceID) THEN 'event_moved'
                            WHEN prev_hash IS DISTINCT FROM link THEN 'broken_link'
                            WHEN hash <> sha256(convert_to(audit_canonical(event, position, prev_hash), 'UTF8')) THEN 'hash_mismatch'
                        END AS problem
                        FROM chain
                    )
                    SELECT position, seq, expected, problem FROM checked WHERE problem IS NOT NULL ORDER BY position LIMIT 1
                    """, logger: logger)
                for try await (position, seq, expected, problem) in bad.decode((Int64, Int64, Int64, String).self) {
                    result.ok = false
                    result.firstBadPosition = position
                    result.firstBadSequence = seq
                    result.reason = problem
                    result.eventsChecked = expected
                }
                let pending = try await tx.query(
                    "SELECT count(*)::int8 FROM audit_unsealed WHERE workspace_id = \(workspaceID)", logger: logger)
                for try await (count) in pending.decode(Int64.self) { result.unsealed = count }
                if result.ok {
                    // With the chain intact, every event of the workspace is chained or queued:
                    // counting is cheap, and only a mismatch needs the search for the culprit.
                    let counts = try await tx.query(
                        """
                        SELECT (SELECT count(*) FROM audit_events WHERE workspace_id = \(workspaceID))
                             - (SELECT count(*) FROM audit_chain WHERE workspace_id = \(workspaceID))
                             - (SELECT count(*) FROM audit_unsealed u JOIN audit_events e ON e.seq = u.seq
                                WHERE u.workspace_id = \(workspaceID) AND e.workspace_id IS NOT DISTINCT FROM u.workspace_id)
                        """, logger: logger)
                    var unaccounted: Int64 = 0
                    for try await (count) in counts.decode(Int64.self) { unaccounted = count }
                    if unaccounted != 0 {
                        // Hash or merge anti-joins: linear whatever the queue's statistics say.
                        try await tx.query("SET LOCAL enable_nestloop = off", logger: logger)
                        let lost = try await tx.query(
                            """
                            SELECT e.seq FROM audit_events e
                            WHERE e.workspace_id = \(workspaceID)
                              AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = e.seq AND c.workspace_id = e.workspace_id)
                              AND NOT EXISTS (SELECT 1 FROM audit_unsealed u WHERE u.workspace_id = e.workspace_id AND u.seq = e.seq)
                            ORDER BY e.seq LIMIT 1
                            """, logger: logger)
                        result.ok = false
                        result.reason = "event_not_chained"
                        for try await (seq) in lost.decode(Int64.self) { result.firstBadSequence = seq }
                    }
                }
                return result
            }
        }
    }

    /// The workspace's last chain position (0 if none) in the connection's snapshot.
    static func lastPosition(workspaceID: String, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        let rows = try await connection.query(
            "SELECT coalesce(max(position), 0)::int8 FROM audit_chain WHERE workspace_id = \(workspaceID)", logger: logger)
        for try await position in rows.decode(Int64.self) { return position }
        return 0
    }

    /// Sealed events matching `filter` in chain order after `position`: at most `limit`
    /// (nil: all), up to position `last` (nil: the end). The bounds are bound values,
    /// and unnamed statements are planned with them, so an absent one costs nothing.
    /// Each chain entry looks its event up by `seq` (the primary key) in a `LATERAL`
    /// subquery that `OFFSET 0` keeps the planner from flattening: a page costs its own
    /// entries' lookups whatever the statistics say. The workspace is checked with
    /// `IS NOT DISTINCT FROM`, which no index can serve, so the lookup stays on the
    /// integer key (with `=` it used the (workspace, seq) index: text comparisons, a
    /// slower export). As a join it did not, twice (bench/HISTORY.md, eighth and ninth
    /// rounds): with `e.workspace_id = c.workspace_id` the planner derived
    /// `e.workspace_id = 'ws'` and, for a workspace filled since the last ANALYZE,
    /// scanned its events once per entry (one batch half-way through a fresh million
    /// took minutes); and with statistics taken part-way through a load it merge- or
    /// hash-joined a window with every event before it (a much slower export, a deep
    /// page of a big log reading the whole table).
    static func page(workspaceID: String, filter: AuditFilter, after position: Int64, through last: Int64? = nil, limit: Int?)
        -> PostgresQuery
    {
        """
        SELECT \(unescaped: AuditRecord.columns)
        FROM audit_chain c CROSS JOIN LATERAL (
            SELECT * FROM audit_events e WHERE e.seq = c.seq AND e.workspace_id IS NOT DISTINCT FROM c.workspace_id OFFSET 0
        ) e
        WHERE c.workspace_id = \(workspaceID) AND c.position > \(position)
          AND (\(last)::int8 IS NULL OR c.position <= \(last)::int8)
          AND (\(filter.from)::timestamptz IS NULL OR e.occurred_at >= \(filter.from)::timestamptz)
          AND (\(filter.to)::timestamptz IS NULL OR e.occurred_at < \(filter.to)::timestamptz)
          AND (\(filter.action)::text IS NULL OR e.action = \(filter.action))
          AND (\(filter.actorID)::text IS NULL OR e.actor_id = \(filter.actorID))
          AND (\(filter.targetID)::text IS NULL OR e.target_id = \(filter.targetID))
          AND (\(filter.outcome)::text IS NULL OR e.outcome = \(filter.outcome))
        ORDER BY c.position LIMIT \(limit)::int8
        """
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        for try await row in rows { records.append(try AuditRecord(row: row)) }
        return records
    }
}
