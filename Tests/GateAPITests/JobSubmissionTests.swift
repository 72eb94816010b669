import Foundation
import Gate
import GateCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Redis
import Testing

@testable import GateAPI
@testable import Persistence

@Suite struct JobSubmissionTests {
    @Test func bothActionsAreGatedOrQueuedPerPolicyAndAudited() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let email = try await fixture.submit(client, key: "e-1", body: emailBody)
            #expect(email.status == .created)
            #expect(email.json["status"] as? String == "pending_approval")
            #expect(email.json["expires_at"] as? String != nil)
            #expect(email.json["required_approvals"] as? Int == 1)
            let id = try #require(email.json["id"] as? String)
            #expect(email.headers[.location] == "/v1/workspaces/acme/jobs/\(id)")
            #expect((email.json["payload_hash"] as? String)?.count == 64)

            let task = try await fixture.submit(client, key: "t-1", body: taskBody)
            #expect(task.status == .created)
            #expect(task.json["status"] as? String == "queued")
            #expect(task.json["expires_at"] is NSNull)

            let read = try await client.execute(uri: "/v1/workspaces/acme/jobs/\(id)", method: .get, headers: bearer(fixture.adminKey))
            #expect(read.status == .ok)
            #expect(read.json["id"] as? String == id)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 2)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.submitted' AND target_id = '\(id)'") == 1)
            // The audit row never carries the message itself.
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE details::text LIKE '%Attached%'") == 0)
        }
    }

    @Test func badInputIsA4xxNamingTheFieldAndChangesNothing() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let cases: [(String, HTTPResponse.Status, String?)] = [
                (#"{"action":"gmail.send","params":{"to":["not-an-address"],"subject":"s","text":"t"}}"#, .unprocessableContent, "params.to[0]"),
                (#"{"action":"gmail.send","params":{"to":["a@example.com"],"subject":"x\r\nBcc: spy@evil.com","text":"t"}}"#, .unprocessableContent, "params.subject"),
                (#"{"action":"gmail.send","params":{"to":["a@example.com"],"subject":"s","text":"t","attachment":[]}}"#, .unprocessableContent, "params.attachment"),
                (#"{"action":"fax.send","params":{}}"#, .unprocessableContent, "action"),
                (#"{"action":"task.create","params":{"title":"x"},"priority":1}"#, .unprocessableContent, "priority"),
                (#"{"action":"task.create","params":{"title":"x"},"callback_url":"ftp://x"}"#, .unprocessableContent, "callback_url"),
                (#"{"params":{}}"#, .unprocessableContent, "action"),
                // U+0000 in names the refusal's audit row records (Postgres cannot store it): a 422, not a 500.
                (#"{"action":"task.create","params":{"title":"x"},"a\u0000":1}"#, .unprocessableContent, "a\u{0}"),
                (#"{"action":"task.create","params":{"title":"x","b\u0000":1}}"#, .unprocessableContent, "params.b\u{0}"),
                (#"{"action":"fax\u0000","params":{}}"#, .unprocessableContent, "action"),
                (#"[1,2]"#, .badRequest, nil),
                ("{", .badRequest, nil),
                // Ambiguous or lax JSON: which recipient would the reviewer see?
                (#"{"action":"gmail.send","params":{"to":["a@example.com"],"to":["spy@evil.com"],"subject":"s","text":"t"}}"#, .badRequest, nil),
                (#"{"action":"task.create","params":{"title":"x",}}"#, .badRequest, nil),
            ]
            for (index, (body, status, field)) in cases.enumerated() {
                let response = try await fixture.submit(client, key: "bad-\(index)", body: body)
                #expect(response.status == status, "\(body)")
                #expect(response.headers[.contentType] == "application/problem+json")
                if let field {
                    let errors = response.json["errors"] as? [[String: String]] ?? []
                    #expect(errors.contains { $0["field"] == field }, "\(body): \(errors)")
                } else if (try? JSONValue(parsing: body)) == nil {
                    #expect((response.json["detail"] as? String)?.hasPrefix("the body is not valid JSON: ") == true, "\(body)")
                }
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 0)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.refused'") >= 10)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE details->>'action' = 'fax\u{FFFD}'") == 1)
        }
    }

    @Test func idempotencyKeyIsRequiredAndChecked() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            #expect(try await fixture.submit(client, key: nil, body: taskBody).status == .badRequest)
            #expect(try await fixture.submit(client, key: String(repeating: "k", count: 256), body: taskBody).status == .badRequest)
            #expect(try await fixture.submit(client, key: "tab\there", body: taskBody).status == .badRequest)
            // client_request_id is an alias of the header.
            let aliased = #"{"action":"task.create","params":{"title":"Call Ann","labels":["sales"]},"client_request_id":"crid-1"}"#
            let first = try await fixture.submit(client, key: nil, body: aliased)
            #expect(first.status == .created)
            let replay = try await fixture.submit(client, key: "crid-1", body: taskBody)
            #expect(replay.status == .ok)
            #expect(replay.json["id"] as? String == first.json["id"] as? String)
            #expect(try await fixture.submit(client, key: "other", body: aliased).status == .badRequest)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
        }
    }

    /// Without the policy cache: the hand edit below would otherwise reach this
    /// process through a notification, a moment after the UPDATE (ConfigCacheTests).
    @Test func policyDecidesWhatMayRun() async throws {
        try await AuthFixture.with(environment: ["CONFIG_CACHE_SECONDS": "0"]) { fixture, client in
            // No policy row: not allowed.
            let none = try await fixture.submit(client, key: "p-1", body: taskBody)
            #expect(none.status == .forbidden)
            try await fixture.allowBothActions(client, constraints: #"{"allowed_recipient_domains":["example.com"],"max_recipients":2}"#)
            let disable = try await client.execute(
                uri: "/v1/workspaces/acme/policies/task.create", method: .put, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: #"{"enabled":false}"#))
            #expect(disable.status == .ok)
            #expect(try await fixture.submit(client, key: "p-2", body: taskBody).status == .forbidden)
            let outside = #"{"action":"gmail.send","params":{"to":["x@gmail.com"],"subject":"s","text":"t"}}"#
            let refused = try await fixture.submit(client, key: "p-3", body: outside)
            #expect(refused.status == .forbidden)
            #expect((refused.json["detail"] as? String)?.contains("gmail.com") == true)
            #expect(try await fixture.submit(client, key: "p-4", body: emailBody).status == .created)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
            // Constraints edited by hand into something the gate cannot read: it refuses
            // everything rather than run without them.
            _ = try await fixture.count(
                "WITH u AS (UPDATE policies SET constraints = '{\"max_recipients\": 0}' WHERE action = 'gmail.send' RETURNING 1) SELECT count(*)::int FROM u")
            let unreadable = try await fixture.submit(client, key: "p-5", body: emailBody)
            #expect(unreadable.status == .forbidden)
            #expect((unreadable.json["detail"] as? String)?.contains("cannot be read") == true)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
            let reasons = try await fixture.auditRows(action: "job.refused").compactMap(\.2)
            #expect(reasons == ["action_not_allowed", "action_disabled", "policy_constraint", "policy_constraint"])
            // Policy changes are audited with before and after.
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'policy.changed' AND details ? 'before' AND details ? 'after'") == 3)
        }
    }

    @Test func replayIs200SameKeyDifferentPayloadIs422() async throws {
        try await AuthFixture.with(environment: ["IDEMPOTENCY_TTL_SECONDS": "777"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let first = try await fixture.submit(client, key: "same", body: emailBody)
            #expect(first.status == .created)
            let again = try await fixture.submit(client, key: "same", body: emailBody)
            #expect(again.status == .ok)
            #expect(again.headers[.idempotentReplayed] == "true")
            #expect(again.json["id"] as? String == first.json["id"] as? String)
            let different = try await fixture.submit(client, key: "same", body: taskBody)
            #expect(different.status == .unprocessableContent)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
            #expect(try await fixture.auditRows(action: "job.refused").compactMap(\.2) == ["idempotency_key_reused"])
        }
    }

    @Test func redisKeyHasTheConfiguredTTLAndIsWorkspaceScoped() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["IDEMPOTENCY_TTL_SECONDS": "777", "REDIS_URL": redis.url, "REDIS_KEY_PREFIX": "gw:"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let created = try await fixture.submit(client, key: "ttl-key", body: taskBody)
            let id = try #require(created.json["id"] as? String)
            let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
            let keys = try await direct.send("KEYS", "gw:idem:*")
            guard case .array(let names) = keys, names.count == 1, let name = names[0].string else {
                Issue.record("expected one idempotency key, got \(keys)")
                return
            }
            #expect(name.hasPrefix("gw:idem:acme:"))
            #expect(!name.contains("ttl-key"))
            #expect((775...777).contains(try await direct.ttl(name)))
            #expect(try await direct.get(name)?.hasSuffix("|\(id)") == true)
            await direct.shutdown()
        }
        await redis.stop()
    }

    @Test func aClaimNamesItsJobAndOnlyAForeignOrStaleClaimIsRewritten() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["REDIS_URL": redis.url, "REDIS_KEY_PREFIX": "gw:"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
            let keys = IdempotencyGuard(redis: direct, ttlSeconds: 60, keyPrefix: "gw:")
            func claim(_ key: String) async throws -> String? { try await direct.get(keys.redisKey(workspace: "acme", key: key)) }
            func plant(_ key: String, _ value: String) async throws {
                try await direct.set(keys.redisKey(workspace: "acme", key: key), to: value, expiresInSeconds: 60)
            }

            // One Redis write per job: the claim names the job, and replays leave it as it is.
            let created = try await fixture.submit(client, key: "k1", body: taskBody)
            let id = try #require(created.json["id"] as? String)
            let hash = try #require(created.json["payload_hash"] as? String)
            let claimed = try #require(try await claim("k1"))
            #expect(claimed.hasPrefix("p|\(hash)|") && claimed.hasSuffix("|\(id)"))
            let replay = try await fixture.submit(client, key: "k1", body: taskBody)
            #expect(replay.status == .ok && replay.json["id"] as? String == id)
            #expect(try await claim("k1") == claimed)

            // Another request's fresh claim whose job does not exist yet: still in flight.
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for (key, value) in [("k2", "p|\(hash)|\(now)|\(SortableID.make(prefix: "job"))"),
                                 ("k3", "p|\(hash)|\(now)|\(UUID().uuidString)")] {  // as claims were written before
                try await plant(key, value)
                let busy = try await fixture.submit(client, key: key, body: taskBody)
                #expect(busy.status == .conflict && busy.headers[.retryAfter] == "1", "\(value)")
                #expect(try await claim(key) == value)
            }
            // The same claims once stale (their requests died): the submission goes ahead,
            // and the key then names the new job.
            for (key, value) in [("k4", "p|\(hash)|0|\(SortableID.make(prefix: "job"))"), ("k5", "p|\(hash)|0|\(UUID().uuidString)")] {
                try await plant(key, value)
                let made = try await fixture.submit(client, key: key, body: taskBody)
                #expect(made.status == .created, "\(value)")
                let madeID = try #require(made.json["id"] as? String)
                #expect(try await claim(key) == "d|\(hash)|\(madeID)")
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 3)
            await direct.shutdown()
        }
        await redis.stop()
    }

    @Test func fiftyConcurrentSubmissionsMakeOneJob() async throws {
        try await AuthFixture.with(concurrent: true) { fixture, client in
            try await fixture.allowBothActions(client)
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let response = try await fixture.submit(client, key: "race", body: emailBody)
                        return (response.status, response.json["id"] as? String)
                    }
                }
                var all: [(HTTPResponse.Status, String?)] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(statuses.filter { $0.0 == .created }.count == 1)
            #expect(statuses.allSatisfy { [.created, .ok, .conflict].contains($0.0) })
            #expect(Set(statuses.compactMap(\.1)).count == 1)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.submitted'") == 1)
        }
    }

    @Test func aRedisFlushNeverCreatesADuplicate() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["REDIS_URL": redis.url]) { fixture, client in
            try await fixture.allowBothActions(client)
            let first = try await fixture.submit(client, key: "flushed", body: emailBody)
            #expect(first.status == .created)
            let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
            _ = try await direct.send("FLUSHALL")
            await direct.shutdown()
            let retry = try await fixture.submit(client, key: "flushed", body: emailBody)
            #expect(retry.status == .ok)
            #expect(retry.headers[.idempotentReplayed] == "true")
            #expect(retry.json["id"] as? String == first.json["id"] as? String)
            // Different payload after the flush: the database still knows the key.
            #expect(try await fixture.submit(client, key: "flushed", body: taskBody).status == .unprocessableContent)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
        }
        await redis.stop()
    }

    @Test func redisDownIs503AndWritesNoJob() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["REDIS_URL": redis.url, "REDIS_TIMEOUT_MS": "300"]) { fixture, client in
            try await fixture.allowBothActions(client)
            await redis.stop()
            let response = try await fixture.submit(client, key: "down", body: emailBody)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.headers[.retryAfter] != nil)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 0)
            try await redis.start()
            #expect(try await fixture.submit(client, key: "down", body: emailBody).status == .created)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
        }
        await redis.stop()
    }

    @Test func aDatabaseFailureAfterTheClaimReleasesItAndTheRetryMakesOneJob() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["REDIS_URL": redis.url, "REDIS_KEY_PREFIX": "gw:"]) { fixture, client in
            try await fixture.allowBothActions(client)
            // The insert fails the way a lost connection does (SQLSTATE class 08).
            try await fixture.execute("""
                CREATE FUNCTION fail_insert() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'connection lost' USING ERRCODE = '08006'; END; $$ LANGUAGE plpgsql
                """)
            try await fixture.execute("CREATE TRIGGER fail_insert BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION fail_insert()")
            let failed = try await fixture.submit(client, key: "retry-me", body: emailBody)
            #expect(failed.status == .serviceUnavailable)
            let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
            #expect(try await direct.send("KEYS", "gw:idem:*") == .array([]))
            await direct.shutdown()
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 0)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.submitted'") == 0)

            try await fixture.execute("DROP TRIGGER fail_insert ON jobs")
            let retried = try await fixture.submit(client, key: "retry-me", body: emailBody)
            #expect(retried.status == .created)
            #expect(try await fixture.submit(client, key: "retry-me", body: emailBody).status == .ok)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
        }
        await redis.stop()
    }

    @Test func nothingCrossesWorkspaces() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            _ = try await fixture.db.withClient { db in
                try await PolicyStore(client: db, logger: TestEnvironment.logger).put(
                    workspaceID: "other",
                    policy: .init(action: "task.create", enabled: true, approval: .auto, approvalTimeoutSeconds: 60, requiredApprovals: 1, constraints: [:]),
                    actor: .init(kind: .system, id: "test"))
            }
            let both = try await fixture.identity.token(TestIdentity.claims(ws: ["acme": ["jobs:write", "jobs:read"], "other": ["jobs:write", "jobs:read"]]))
            let inAcme = try await fixture.submit(client, key: "shared-key", body: taskBody, credential: both)
            let inOther = try await fixture.submit(client, key: "shared-key", body: taskBody, workspace: "other", credential: both)
            #expect(inAcme.status == .created && inOther.status == .created)
            let acmeID = try #require(inAcme.json["id"] as? String)
            #expect(acmeID != inOther.json["id"] as? String)
            let crossRead = try await client.execute(uri: "/v1/workspaces/other/jobs/\(acmeID)", method: .get, headers: bearer(both))
            #expect(crossRead.status == .notFound)
            let otherList = try await client.execute(uri: "/v1/workspaces/other/jobs", method: .get, headers: bearer(both))
            let ids = (otherList.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids.count == 1 && !ids.contains(acmeID))
            // The acme admin key sees nothing of other.
            #expect(try await client.execute(uri: "/v1/workspaces/other/jobs", method: .get, headers: bearer(fixture.adminKey)).status == .notFound)
        }
    }

    @Test func listingFiltersAndPaginatesNewestFirst() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            var created: [String] = []
            for i in 0..<5 {
                let body = i % 2 == 0 ? taskBody : emailBody
                let response = try await fixture.submit(client, key: "list-\(i)", body: body)
                created.append(try #require(response.json["id"] as? String))
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let uri = "/v1/workspaces/acme/jobs?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.execute(uri: uri, method: .get, headers: bearer(fixture.adminKey))
                #expect(page.status == .ok)
                seen += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.json["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == created.reversed())
            let queued = try await client.execute(uri: "/v1/workspaces/acme/jobs?status=queued", method: .get, headers: bearer(fixture.adminKey))
            #expect((queued.json["items"] as? [[String: Any]])?.count == 3)
            let emails = try await client.execute(uri: "/v1/workspaces/acme/jobs?action=gmail.send", method: .get, headers: bearer(fixture.adminKey))
            #expect((emails.json["items"] as? [[String: Any]])?.count == 2)
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs?status=nonsense", method: .get, headers: bearer(fixture.adminKey)).status == .badRequest)
            #expect(try await client.execute(uri: "/v1/workspaces/acme/jobs/job_nope", method: .get, headers: bearer(fixture.adminKey)).status == .notFound)
        }
    }

    /// The submission runs as a prepared statement whose parameter types come from its
    /// first execution on a connection; one connection for requests (the other is the
    /// LISTEN connection), so the automatic job's NULLs (no timeout, no acts_for) are what
    /// it was prepared with when the gated job comes.
    @Test func preparedSubmissionTakesNullsThenValuesOnOneConnection() async throws {
        try await AuthFixture.with(environment: ["DATABASE_POOL_SIZE": "2"]) { fixture, client in
            try await fixture.allowBothActions(client)
            for round in 0..<3 {
                let auto = try await fixture.submit(client, key: "auto-\(round)", body: taskBody)
                #expect(auto.status == .created)
                #expect(auto.json["expires_at"] == nil || auto.json["expires_at"] is NSNull)
                let gated = try await fixture.submit(client, key: "gated-\(round)", body: emailBody)
                #expect(gated.status == .created)
                #expect(gated.json["status"] as? String == "pending_approval")
                let read = try await client.execute(
                    uri: "/v1/workspaces/acme/jobs/\(try #require(gated.json["id"] as? String))", method: .get,
                    headers: bearer(fixture.adminKey))
                #expect(read.status == .ok)
            }
            // Gated jobs expire an hour from now (the policy's 3600 s), automatic ones never.
            #expect(try await fixture.count(
                "SELECT count(*) FROM jobs WHERE expires_at BETWEEN now() + interval '3590 s' AND now() + interval '3610 s'") == 3)
            #expect(try await fixture.count("SELECT count(*) FROM jobs WHERE expires_at IS NULL") == 3)
            #expect(try await fixture.count("SELECT count(*) FROM approvals") == 3)
            #expect(try await fixture.count("SELECT count(*) FROM audit_events WHERE action = 'job.submitted' AND request_id IS NOT NULL AND actor_ip IS NOT NULL") == 6)
        }
    }
}
