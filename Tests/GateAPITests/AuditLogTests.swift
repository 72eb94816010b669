import Foundation
import Gate
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

/// The tamper-evident audit log (SPEC §4 Audit, docs/audit.md): append-only in the
/// database, a hash chain per workspace, query, export and verify. Serialized: each
/// test is heavy (concurrent writers, child processes), and the rest of the suite has
/// timing checks that a burst of them would starve.
@Suite(.serialized) struct AuditLogTests {
    @Test func theDatabaseRefusesUpdateDeleteAndTruncate() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.writeEvents(3)
            #expect(try await fixture.getAudit(client, "/verify").status == .ok)  // seals them
            for statement in [
                "UPDATE audit_events SET details = '{}'", "DELETE FROM audit_events", "TRUNCATE audit_events",
                "UPDATE audit_chain SET hash = sha256('x')", "DELETE FROM audit_chain", "TRUNCATE audit_chain",
            ] {
                await #expect(throws: (any Error).self, "\(statement)") { try await fixture.execute(statement) }
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'test.event'") == 3)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_chain c JOIN audit_events e USING (seq) WHERE e.action = 'test.event'") == 3)
        }
    }

    @Test func everyEventIsChainedAndTheChainVerifies() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            // Gated jobs: no executor writes events behind the test's back.
            for index in 0..<5 { #expect(try await fixture.submit(client, key: "k\(index)", body: emailBody).status == .created) }
            try await fixture.writeEvents(20, workspace: "other")
            let verified = try await fixture.getAudit(client, "/verify")
            #expect(verified.status == .ok)
            let total = try await fixture.count("SELECT count(*)::int FROM audit_events WHERE workspace_id = 'acme'")
            #expect(verified.json["ok"] as? Bool == true)
            #expect(verified.json["events_checked"] as? Int == total)
            #expect(verified.json["first_bad_sequence"] is NSNull)
            let head = verified.json["head"] as? [String: Any]
            #expect(head?["position"] as? Int == total)
            // Positions 1…n per workspace, each linked to the previous hash.
            #expect(try await fixture.count(
                """
                SELECT count(*)::int FROM audit_chain c
                LEFT JOIN audit_chain p ON p.workspace_id = c.workspace_id AND p.position = c.position - 1
                WHERE c.workspace_id = 'acme' AND (c.prev_hash IS DISTINCT FROM p.hash)
                """) == 0)
            _ = try await fixture.count("SELECT audit_seal('other', 1000, 5000)")  // unless the background sealer did
            #expect(try await fixture.count("SELECT max(position)::int FROM audit_chain WHERE workspace_id = 'other'")
                == fixture.count("SELECT count(*)::int FROM audit_events WHERE workspace_id = 'other'"))
            #expect(try await fixture.chainRows().allSatisfy { $0.1 != nil })
        }
    }

    @Test func theBackgroundSealerChainsWithoutAnyRead() async throws {
        try await AuthFixture.with(environment: ["AUDIT_SEAL_INTERVAL_MS": "20"]) { fixture, _ in
            try await fixture.writeEvents(30)
            let deadline = ContinuousClock.now + .seconds(10)
            while try await fixture.count("SELECT count(*)::int FROM audit_unsealed") > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_unsealed") == 0)
            #expect(try await fixture.chainRows().allSatisfy { $0.1 != nil })
        }
    }

    @Test func editsBehindTheTriggersAreFoundAtTheirSequence() async throws {
        try await AuthFixture.with { fixture, client in
            let seqs = try await fixture.writeEvents(12)
            #expect(try await fixture.getAudit(client, "/verify").json["ok"] as? Bool == true)

            // An owner disables the triggers and edits one event.
            try await fixture.asSuperuser([
                "ALTER TABLE audit_events DISABLE TRIGGER USER",
                "UPDATE audit_events SET details = '{\"n\": 999}' WHERE seq = \(seqs[8])",
                "ALTER TABLE audit_events ENABLE TRIGGER USER",
            ])
            var verified = try await fixture.getAudit(client, "/verify").json
            #expect(verified["ok"] as? Bool == false)
            #expect(verified["first_bad_sequence"] as? Int == Int(seqs[8]))
            #expect(verified["reason"] as? String == "hash_mismatch")

            // A superuser in replica mode edits an earlier one: that one is reported first.
            try await fixture.asSuperuser([
                "SET session_replication_role = replica",
                "UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = \(seqs[5])",
                "RESET session_replication_role",
            ])
            verified = try await fixture.getAudit(client, "/verify").json
            #expect(verified["first_bad_sequence"] as? Int == Int(seqs[5]))

            // …and deletes an even earlier one.
            try await fixture.asSuperuser([
                "SET session_replication_role = replica",
                "DELETE FROM audit_events WHERE seq = \(seqs[2])",
                "RESET session_replication_role",
            ])
            verified = try await fixture.getAudit(client, "/verify").json
            #expect(verified["first_bad_sequence"] as? Int == Int(seqs[2]))
            #expect(verified["reason"] as? String == "event_missing")

            // Rewriting a stored hash breaks the link to the next entry.
            try await fixture.asSuperuser([
                "ALTER TABLE audit_chain DISABLE TRIGGER USER",
                "UPDATE audit_chain SET hash = sha256('forged') WHERE seq = \(seqs[0])",
                "ALTER TABLE audit_chain ENABLE TRIGGER USER",
            ])
            verified = try await fixture.getAudit(client, "/verify").json
            #expect(verified["first_bad_sequence"] as? Int == Int(seqs[0]))
            #expect(verified["reason"] as? String == "hash_mismatch")
        }
    }

    @Test func anEventDroppedFromTheSealingQueueIsReported() async throws {
        try await AuthFixture.with { fixture, client in
            #expect(try await fixture.getAudit(client, "/verify").json["ok"] as? Bool == true)
            // Insert with the queue trigger off: the event is never chained.
            let seq = try await fixture.db.withClient { client in
                try await client.withConnection { connection in
                    try await connection.query("SET session_replication_role = replica", logger: TestEnvironment.logger)
                    let rows = try await connection.query(
                        "INSERT INTO audit_events (workspace_id, actor_type, action, outcome) VALUES ('acme', 'system', 'sneaky', 'success') RETURNING seq",
                        logger: TestEnvironment.logger)
                    for try await (seq) in rows.decode(Int64.self) { return seq }
                    return Int64(0)
                }
            }
            let verified = try await fixture.getAudit(client, "/verify").json
            #expect(verified["ok"] as? Bool == false)
            #expect(verified["reason"] as? String == "event_not_chained")
            #expect(verified["first_bad_sequence"] as? Int == Int(seq))
        }
    }

    @Test func concurrentSealersBuildOneGaplessChain() async throws {
        try await AuthFixture.with { fixture, _ in
            try await fixture.db.withClient { pg in
                let store = AuditStore(client: pg, logger: TestEnvironment.logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask { try await fixture.writeEvents(50, actor: "writer-\(writer)") }
                    }
                    for _ in 0..<4 {
                        group.addTask {
                            for _ in 0..<40 {
                                _ = try await store.seal(workspaceID: "acme", max: 7, lockWaitMilliseconds: 200)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                try await store.sealCommitted(workspaceID: "acme")
                let result = try await store.verify(workspaceID: "acme")
                #expect(result.ok, "\(result)")
                #expect(result.eventsChecked == Int64(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE workspace_id = 'acme'")))
            }
        }
    }

    @Test func paginationReturnsEachEventExactlyOnceWhileEventsArrive() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.writeEvents(60)
            let writing = Task {
                // Four writers at once, so commits land out of seq order.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 { group.addTask { try await fixture.writeEvents(40, actor: "late-\(writer)") } }
                    try await group.waitForAll()
                }
            }
            var seen: [Int64] = []
            var positions: [Int] = []
            var cursor: String?
            var pages = 0
            func page() async throws -> String? {
                let response = try await fixture.getAudit(client, "?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(response.status == .ok)
                let items = response.json["items"] as? [[String: Any]] ?? []
                seen += items.compactMap { ($0["seq"] as? Int).map(Int64.init) }
                positions += items.compactMap { $0["position"] as? Int }
                #expect(items.allSatisfy { ($0["hash"] as? String)?.count == 64 })
                pages += 1
                return response.json["next_cursor"] as? String
                    ?? items.last.flatMap { ($0["position"] as? Int).map(String.init) } ?? cursor
            }
            // Page (and keep tailing from the last position) while the writers run, then
            // tail until nothing new comes.
            for _ in 0..<40 {
                cursor = try await page()
                try await Task.sleep(for: .milliseconds(10))
            }
            try await writing.value
            while true {
                let next = try await page()
                if next == cursor { break }
                cursor = next
            }
            let all = try await fixture.chainRows().map(\.0)
            #expect(seen.count == Set(seen).count, "an event came twice")
            #expect(Set(seen) == Set(all), "missing: \(Set(all).subtracting(seen).sorted().prefix(10))")
            #expect(positions == Array(1...positions.count))
        }
    }

    @Test func filtersSelectEventsAndBadParametersAreNamed() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.writeEvents(3, action: "a.one", actor: "ann")
            try await fixture.writeEvents(2, action: "a.two", actor: "bob")
            try await fixture.execute(
                "INSERT INTO audit_events (workspace_id, occurred_at, actor_type, action, target_id, outcome) VALUES ('acme', '2020-01-01T00:00:00Z', 'system', 'old', 'job-x', 'failure')")
            func items(_ query: String) async throws -> [[String: Any]] {
                let response = try await fixture.getAudit(client, "?limit=500&" + query)
                #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
                return response.json["items"] as? [[String: Any]] ?? []
            }
            #expect(try await items("action=a.one").count == 3)
            #expect(try await items("actor=bob").count == 2)
            #expect(try await items("actor=bob&action=a.one").isEmpty)
            #expect(try await items("target=job-x").count == 1)
            #expect(try await items("outcome=failure").map { $0["action"] as? String } == ["old"])
            #expect(try await items("to=2021-01-01T00:00:00Z").map { $0["action"] as? String } == ["old"])
            #expect(try await items("from=2020-01-01T00:00:00Z&to=2020-01-01T00:00:00.000001Z").count == 1)
            #expect(try await items("from=2021-01-01T00:00:00%2B01:00").allSatisfy { $0["action"] as? String != "old" })
            // RFC 3339 allows offsets Postgres refuses (beyond ±15:59): a 200, not a 500.
            #expect(try await items("from=2019-12-31T20:00:00%2B20:24&to=2020-01-01T00:00:00.000001-23:59").count == 1)
            let event = try await items("action=old").first ?? [:]
            #expect((event["actor"] as? [String: Any])?["type"] as? String == "system")
            #expect((event["target"] as? [String: Any])?["id"] as? String == "job-x")
            #expect(event["occurred_at"] as? String == "2020-01-01T00:00:00.000000Z")
            #expect(event["workspace"] as? String == "acme")

            for (query, parameter) in [
                ("from=yesterday", "from"), ("to=2026-02-30T00:00:00Z", "to"), ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
                ("outcome=maybe", "outcome"), ("cursor=abc", "cursor"), ("cursor=-1", "cursor"), ("action=", "action"),
                ("actor=%01", "actor"),
            ] {
                let response = try await fixture.getAudit(client, "?" + query)
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.headers[.contentType] == "application/problem+json")
                let field = (response.json["errors"] as? [[String: Any]])?.first?["field"] as? String
                #expect(field == parameter, "\(query)")
            }
            #expect(try await fixture.getAudit(client, "?limit=501").status == .badRequest)
            #expect(try await fixture.getAudit(client, "?limit=500").status == .ok)
            let badExport = try await fixture.getAudit(client, "/export?format=xml")
            #expect(badExport.status == .badRequest)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'audit.exported'") == 0)
        }
    }

    @Test func scopesAndMembershipAreEnforced() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.writeEvents(2)
            try await fixture.writeEvents(3, workspace: "other", action: "other.event")
            let stranger = try await fixture.auditToken(["audit:read", "audit:export"], workspace: "other")
            for path in ["", "/verify", "/export"] {
                #expect(try await fixture.getAudit(client, path, credential: stranger).status == .notFound, "\(path)")
            }
            let reader = try await fixture.auditToken(["audit:read"])
            #expect(try await fixture.getAudit(client, "", credential: reader).status == .ok)
            #expect(try await fixture.getAudit(client, "/verify", credential: reader).status == .ok)
            let noExport = try await fixture.getAudit(client, "/export", credential: reader)
            #expect(noExport.status == .forbidden)
            #expect(noExport.json["detail"] as? String == "this requires the scope audit:export")
            let exporter = try await fixture.auditToken(["audit:export"])
            #expect(try await fixture.getAudit(client, "/export", credential: exporter).status == .ok)
            for path in ["", "/verify"] {
                #expect(try await fixture.getAudit(client, path, credential: exporter).status == .forbidden, "\(path)")
            }
            let jobsOnly = try await fixture.auditToken(["jobs:read"])
            #expect(try await fixture.getAudit(client, "", credential: jobsOnly).status == .forbidden)

            // A member of `other` sees only `other`'s events.
            let response = try await client.execute(uri: "/v1/workspaces/other/audit?limit=500", method: .get, headers: bearer(stranger))
            let items = response.json["items"] as? [[String: Any]] ?? []
            #expect(!items.isEmpty)
            #expect(items.allSatisfy { $0["workspace"] as? String == "other" })
            #expect(!items.contains { $0["action"] as? String == "test.event" })
            #expect(try await fixture.auditRows(action: "authz.denied").count >= 6)
        }
    }

    /// Events whose fields exercise every escaping rule of both formats.
    static let awkwardEvents = """
        INSERT INTO audit_events (workspace_id, actor_type, actor_id, actor_ip, action, target_type, target_id, outcome, request_id, details) VALUES
        ('acme', 'user', '=HYPERLINK("http://evil.example","x")', '::1', 'csv.formula', 'job', '-2+3', 'success', '@req', '{"text": "a,b \\"quoted\\"\\r\\nnext line", "n": 1.50, "big": 123456789012345678901234567890, "e": 1e2, "nested": {"zz": [true, null, -0.5], "a": "é ☃ 𝄞"}, "ctl": "\\u0001\\t"}'),
        ('acme', 'user', '', NULL, 'empty.actor', NULL, '''quoted', 'denied', NULL, '{}'),
        ('acme', 'api_key', 'k1', '10.0.0.1', 'tabbed', 'job', E'\\tcell', 'failure', '+1', '{"k:\\"": "colon-quote key"}')
        """

    /// An export is read 1,000 events at a time, the next batch while the last is
    /// written: every event must come out once, in chain order, across the batches.
    @Test func anExportOfSeveralBatchesHasEveryEventOnceInOrder() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.execute("""
                INSERT INTO audit_events (workspace_id, actor_type, actor_id, action, target_type, target_id, outcome, details)
                SELECT 'acme', 'system', 'bulk', 'bulk.event', 'job', 'job-' || g, 'success', jsonb_build_object('i', g)
                FROM generate_series(1, 2500) AS g
                """)
            let response = try await fixture.getAudit(client, "/export?format=jsonl")
            #expect(response.status == .ok)
            let chain = try await fixture.chainRows()
            let lines = String(buffer: response.body).split(separator: "\n")
            let seqs = lines.map { line in
                Int64(((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["seq"] as? Int ?? 0)
            }
            #expect(chain.count > 2500)
            #expect(seqs == chain.map(\.0))
            #expect(lines.filter { $0.contains(#""action":"bulk.event""#) }.count == 2500)
        }
    }

    /// A workspace filled since the statistics were last gathered (a new customer's
    /// import, a bulk load) must still be read in one pass, each page looking up its own
    /// events only. Counted from the plan's actual rows, not timed.
    @Test func aPageLooksUpOnlyItsOwnEventsWhateverTheStatisticsSay() async throws {
        try await AuthFixture.with { fixture, _ in
            func bulk(_ workspace: String, _ count: Int) async throws {
                try await fixture.execute("""
                    INSERT INTO audit_events (workspace_id, actor_type, actor_id, action, target_type, target_id, outcome, details)
                    SELECT '\(workspace)', 'system', 'bulk', 'bulk.event', 'job', 'job-' || g, 'success', jsonb_build_object('i', g)
                    FROM generate_series(1, \(count)) AS g
                    """)
                _ = try await fixture.count("SELECT audit_seal('\(workspace)', \(count + 100), 5000)")
            }
            // Statistics taken part-way through a load ("partial": 2,000 of its 12,000
            // events) and before a workspace had any ("new"), as autovacuum leaves them.
            try await bulk("other", 20000)
            try await bulk("partial", 2000)
            try await fixture.execute("ANALYZE audit_events")
            try await fixture.execute("ANALYZE audit_chain")
            try await bulk("partial", 10000)
            try await bulk("new", 6000)

            // A few nodes each seeing the window's 1,000 rows: linear. As a join, the first
            // hash-joined the window with a scan of all 34,000 events (a merge join in the
            // benchmark's million), the second scanned the workspace's events once per
            // entry (9,001,500 rows).
            for (workspace, position) in [("partial", Int64(0)), ("new", Int64(4000))] {
                let plan = try await fixture.explainAnalyze(
                    AuditStore.page(workspaceID: workspace, filter: AuditFilter(), after: position, through: position + 1000, limit: nil))
                #expect(plan.rows == 1000, "\(workspace)")
                #expect(plan.touched < 20_000, "\(workspace): \(plan.text)")
            }
        }
    }

    /// A filtered export reads the chain in windows of positions: windows without a
    /// match (the first 2,200 bulk events and the fixture's) must not end it.
    @Test func aFilteredExportGoesOnPastWindowsWithoutAMatch() async throws {
        try await AuthFixture.with { fixture, client in
            for (year, from, through) in [(2020, 1, 1000), (2021, 1001, 2200), (2022, 2201, 2500)] {
                try await fixture.execute("""
                    INSERT INTO audit_events (workspace_id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, details)
                    SELECT 'acme', '\(year)-06-01T00:00:00Z', 'system', 'bulk', 'bulk.event', 'job', 'job-' || g, 'success',
                        jsonb_build_object('i', g)
                    FROM generate_series(\(from), \(through)) AS g
                    """)
            }
            let response = try await fixture.getAudit(client, "/export?format=jsonl&from=2022-01-01T00:00:00Z&to=2023-01-01T00:00:00Z")
            #expect(response.status == .ok)
            let numbers = String(buffer: response.body).split(separator: "\n").map { line in
                (((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["details"] as? [String: Any])?["i"] as? Int
            }
            #expect(numbers == Array(2201...2500))
        }
    }

    /// Exports and verifications hold a pooled connection while they run: past
    /// AUDIT_EXPORT_CONCURRENCY more are refused with 429, and the place comes back when
    /// an export ends, even one whose client stopped reading.
    @Test func exportsBeyondTheLimitAreRefusedUntilOneEnds() async throws {
        try await AuthFixture.with(environment: ["AUDIT_EXPORT_CONCURRENCY": "1"]) { fixture, client in
            // ≈ 54 MB of JSONL, more than both sockets buffer: an unread export stays open.
            try await fixture.execute("""
                INSERT INTO audit_events (workspace_id, actor_type, actor_id, action, target_type, target_id, outcome, details)
                SELECT 'acme', 'system', 'bulk', 'bulk.event', 'job', 'job-' || g, 'success', jsonb_build_object('i', g)
                FROM generate_series(1, 100000) AS g
                """)
            let port = try #require(client.port)
            let stalled = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.autoRead, value: false)
                .channelOption(.socketOption(.so_rcvbuf), value: 4096)
                .connect(host: "localhost", port: port).get()
            try await stalled.writeAndFlush(ByteBuffer(string:
                "GET /v1/workspaces/acme/audit/export HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(fixture.adminKey)\r\n\r\n")).get()

            // The export has its place once it is recorded (asking earlier could take the
            // place from it).
            var recorded = 0
            for _ in 0..<100 where recorded == 0 {
                recorded = try await fixture.auditRows(action: "audit.exported").count
                if recorded == 0 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(recorded == 1)
            let problem = try await fixture.getAudit(client, "/verify")
            #expect(problem.status == .tooManyRequests, "\(String(buffer: problem.body))")
            #expect(problem.headers[.retryAfter] == "5")
            #expect(problem.headers[.contentType] == "application/problem+json")
            #expect(String(buffer: problem.body).contains("1 audit exports or verifications are already running"))
            // (An empty range: were it not refused, it would not stream the whole log again.)
            #expect(try await fixture.getAudit(client, "/export?from=2100-01-01T00:00:00Z").status == .tooManyRequests)
            // A refused export is not recorded as one.
            #expect(try await fixture.auditRows(action: "audit.exported").count == 1)

            try await stalled.close().get()
            var status: HTTPResponse.Status?
            for _ in 0..<100 where status != .ok {
                status = try await fixture.getAudit(client, "/verify").status
                if status != .ok { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(status == .ok, "the place did not come back after the client went away")
        }
    }

    /// A client that stops reading gives its export's place back at
    /// AUDIT_EXPORT_IDLE_SECONDS (it used to hold it, and a pooled connection in one
    /// snapshot, for as long as it kept the socket open), and a workspace holds at most
    /// AUDIT_EXPORT_PER_WORKSPACE of the replica's places, so others still get theirs.
    @Test func aStalledExportIsCutOffAtTheIdleLimitAndWorkspacesShareThePlaces() async throws {
        let limits = ["AUDIT_EXPORT_CONCURRENCY": "2", "AUDIT_EXPORT_PER_WORKSPACE": "1", "AUDIT_EXPORT_IDLE_SECONDS": "2"]
        try await AuthFixture.with(environment: limits) { fixture, client in
            // ≈ 16 MB of JSONL, more than both sockets buffer.
            try await fixture.execute("""
                INSERT INTO audit_events (workspace_id, actor_type, actor_id, action, target_type, target_id, outcome, details)
                SELECT 'acme', 'system', 'bulk', 'bulk.event', 'job', 'job-' || g, 'success', jsonb_build_object('i', g)
                FROM generate_series(1, 30000) AS g
                """)
            let port = try #require(client.port)
            let stalled = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.autoRead, value: false)
                .channelOption(.socketOption(.so_rcvbuf), value: 4096)
                .connect(host: "localhost", port: port).get()
            try await stalled.writeAndFlush(ByteBuffer(string:
                "GET /v1/workspaces/acme/audit/export HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(fixture.adminKey)\r\n\r\n")).get()
            #expect(try await eventually(within: .seconds(30)) { try await fixture.auditRows(action: "audit.exported").count == 1 })

            // The workspace's one place is taken; another workspace has its own.
            let refused = try await fixture.getAudit(client, "/export?from=2100-01-01T00:00:00Z")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "5")
            #expect(String(buffer: refused.body).contains("1 audit exports or verifications of this workspace are already running"))
            let otherExporter = try await fixture.auditToken(["audit:export"], workspace: "other")
            let other = try await client.execute(uri: "/v1/workspaces/other/audit/export", method: .get, headers: bearer(otherExporter))
            #expect(other.status == .ok)

            // The stalled export is cut off at the idle limit although its client never
            // closed the connection: the workspace's place comes back.
            let cameBack = try await eventually(within: .seconds(20), every: .milliseconds(250)) {
                try await fixture.getAudit(client, "/export?from=2100-01-01T00:00:00Z").status == .ok
            }
            #expect(cameBack, "the stalled export kept its place")
            try await stalled.close().get()
        }
    }

    @Test func exportsRoundTripAndVerifyIndependently() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            #expect(try await fixture.submit(client, key: "k1", body: emailBody).status == .created)  // gated: nothing runs meanwhile
            try await fixture.execute(Self.awkwardEvents)
            try await fixture.writeEvents(25)

            for format in ["jsonl", "csv"] {
                let response = try await fixture.getAudit(client, "/export?format=\(format)")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix(format == "csv" ? "text/csv" : "application/x-ndjson") == true)
                let chain = try await fixture.chainRows()  // after the export: its own event is chained too
                let path = "\(TestEnvironment.serversDirectory)/export-\(UUID().uuidString).\(format)"
                try Data(buffer: response.body).write(to: URL(fileURLWithPath: path))
                let (status, result) = try await runExportVerifier(path)
                #expect(status == 0, "\(result)")
                #expect(result["ok"] as? Bool == true)
                #expect(result["events_checked"] as? Int == chain.count)
                #expect((result["head"] as? [String: Any])?["hash"] as? String == chain.last?.1)

                let text = String(buffer: response.body)
                if format == "jsonl" {
                    let lines = text.split(separator: "\n")
                    #expect(lines.count == chain.count)
                    let parsed = lines.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
                    #expect(parsed.map { Int64($0["seq"] as? Int ?? 0) } == chain.map(\.0))
                    #expect(parsed.map { $0["hash"] as? String } == chain.map(\.1))
                    #expect(parsed.last?["action"] as? String == "audit.exported")
                    #expect((parsed.last?["details"] as? [String: Any])?["format"] as? String == "jsonl")
                    #expect(text.contains(#""n": 1.50"#), "details are exported as stored")
                    // An anchor recorded earlier must still be in the chain.
                    let anchored = try await runExportVerifier(path, arguments: ["--anchor", chain[3].1 ?? ""])
                    #expect(anchored.0 == 0)
                    let forged = try await runExportVerifier(path, arguments: ["--anchor", String(repeating: "0", count: 64)])
                    #expect(forged.0 == 1 && forged.1["reason"] as? String == "anchor_missing")
                } else {
                    #expect(text.hasPrefix(AuditFormat.csvColumns.joined(separator: ",") + "\r\n"))
                    #expect(text.contains(#""'=HYPERLINK(""http://evil.example"",""x"")""#), "formula cells are guarded")
                    #expect(text.contains(",'-2+3,"))
                    #expect(text.contains(",'@req,"))
                    #expect(text.contains(",''quoted,"))
                }

                // One changed byte in the file is found at its event.
                let tampered = "\(path).tampered"
                let victim = chain[chain.count / 2].0
                var lines = text.components(separatedBy: format == "csv" ? "\r\n" : "\n")
                let index = lines.firstIndex { line in
                    format == "csv" ? line.hasPrefix("\(chain.count / 2 + 1),\(victim),") : line.hasPrefix("{\"seq\":\(victim),")
                }
                #expect(index != nil)
                if let index { lines[index] = lines[index].replacingOccurrences(of: "success", with: "failure") }
                try lines.joined(separator: format == "csv" ? "\r\n" : "\n").write(toFile: tampered, atomically: true, encoding: .utf8)
                let (badStatus, bad) = try await runExportVerifier(tampered)
                #expect(badStatus == 1)
                #expect(bad["first_bad_sequence"] as? Int == Int(victim), "\(bad)")
            }
            #expect(try await fixture.auditRows(action: "audit.exported").count == 2)
        }
    }

    @Test func aRangedExportHoldsOnlyItsRangeAndIsRecorded() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.execute(
                "INSERT INTO audit_events (workspace_id, occurred_at, actor_type, action, outcome) VALUES ('acme', '2020-06-01T00:00:00Z', 'system', 'old', 'success')")
            try await fixture.writeEvents(5)
            let response = try await fixture.getAudit(client, "/export?format=jsonl&to=2021-01-01T00:00:00Z")
            let lines = String(buffer: response.body).split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.contains(#""action":"old""#) == true)
            let recorded = try await fixture.db.withClient { client in
                let rows = try await client.query(
                    "SELECT details->>'format', details->>'to', actor_type FROM audit_events WHERE action = 'audit.exported'")
                var result: [(String, String, String)] = []
                for try await row in rows.decode((String, String, String).self) { result.append(row) }
                return result
            }
            #expect(recorded.count == 1)
            #expect(recorded.first?.0 == "jsonl" && recorded.first?.1 == "2021-01-01T00:00:00Z" && recorded.first?.2 == "api_key")
        }
    }

    @Test func theCommandLineExportsAndVerifies() async throws {
        try await AuthFixture.with { fixture, _ in
            try await fixture.writeEvents(15)
            let env = TestEnvironment.appEnvironment(databaseURL: fixture.db.url)
            let cli = CLITests()
            let file = "\(TestEnvironment.serversDirectory)/cli-export-\(UUID().uuidString).csv"
            let exported = try await cli.gateAPI(["audit", "export", "--workspace", "acme", "--format", "csv", "--output", file], environment: env)
            #expect(exported.0 == 0, "\(exported.2)")
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let (status, result) = try await runExportVerifier(file)
            #expect(status == 0)
            let total = try await fixture.count("SELECT count(*)::int FROM audit_events WHERE workspace_id = 'acme'")
            #expect(result["events_checked"] as? Int == total)
            #expect(try await fixture.auditRows(action: "audit.exported").first?.0 != nil)

            let stdout = try await cli.gateAPI(["audit", "export", "--workspace", "acme", "--to", "2000-01-01T00:00:00Z"], environment: env)
            #expect(stdout.0 == 0 && stdout.1.isEmpty)
            #expect(try await cli.gateAPI(["audit", "export", "--workspace", "acme", "--format", "xml"], environment: env).0 == 1)
            #expect(try await cli.gateAPI(["audit", "export", "--workspace", "nope"], environment: env).0 == 1)

            var verified = try await cli.gateAPI(["audit", "verify", "--workspace", "acme"], environment: env)
            #expect(verified.0 == 0, "\(verified.2)")
            #expect(verified.1.contains(#""ok":true"#))
            let seq = try await fixture.count("SELECT min(seq)::int FROM audit_events WHERE action = 'test.event'")
            try await fixture.asSuperuser([
                "SET session_replication_role = replica",
                "UPDATE audit_events SET outcome = 'failure' WHERE seq = \(seq)",
            ])
            verified = try await cli.gateAPI(["audit", "verify", "--workspace", "acme"], environment: env)
            #expect(verified.0 == 1)
            #expect(verified.1.contains(#""first_bad_sequence":\#(seq)"#), "\(verified.1)")
        }
    }
}
