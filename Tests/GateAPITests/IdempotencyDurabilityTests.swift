import Foundation
import Gate
import GateCore
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Redis
import Testing

@testable import GateAPI
@testable import Persistence

/// An Idempotency-Key holds for its whole TTL (issue 22 §3): also after the history purge
/// deleted its job, after Redis lost the claim, and after a refused retry.
@Suite struct IdempotencyDurabilityTests {
    /// Makes `id` a finished job old enough for the history purge, and purges.
    func purge(_ fixture: AuthFixture, _ id: String, idempotencyTTLSeconds: Int = 86400) async throws {
        try await fixture.db.moveJobs(where: "id = '\(id)'", to: "succeeded")
        try await fixture.execute("UPDATE jobs SET updated_at = now() - interval '2 days' WHERE id = '\(id)'")
        let purged = try await fixture.db.withClient { postgres in
            try await JobStore(client: postgres, logger: TestEnvironment.logger).purgeHistory(
                ttlSeconds: 86400, maxPerWorkspace: 1000, batch: 500, idempotencyTTLSeconds: idempotencyTTLSeconds)
        }
        #expect(purged == 1)
    }

    func flushRedis(_ redis: RedisServerProcess) async throws {
        let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
        _ = try await direct.send("FLUSHALL")
        await direct.shutdown()
    }

    @Test func aRetryAfterThePurgeDeletedTheJobIsNeverANewJob() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["REDIS_URL": redis.url, "REDIS_KEY_PREFIX": "gw:"]) { fixture, client in
            try await fixture.allowBothActions(client)
            let first = try await fixture.submit(client, key: "purged", body: taskBody)
            #expect(first.status == .created)
            let id = try #require(first.json["id"] as? String)
            try await purge(fixture, id)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 0)
            #expect(try await fixture.count(
                "SELECT count(*)::int FROM idempotency_records WHERE job_id = '\(id)' AND job_status = 'succeeded'") == 1)

            // With the claim in Redis (still fresh), after a flush, after a refused retry
            // with another payload, and with a stale claim (its replica died): 410 naming
            // the job, never a second job.
            let hash = try #require(first.json["payload_hash"] as? String)
            for step in ["claim", "flushed", "after 422", "stale claim"] {
                if step == "flushed" { try await flushRedis(redis) }
                if step == "stale claim" {
                    let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
                    let keys = IdempotencyGuard(redis: direct, ttlSeconds: 60, keyPrefix: "gw:")
                    try await direct.set(
                        keys.redisKey(workspace: "acme", key: "purged"), to: "p|\(hash)|0|\(SortableID.make(prefix: "job"))",
                        expiresInSeconds: 60)
                    await direct.shutdown()
                }
                if step == "after 422" {
                    try await flushRedis(redis)
                    let other = try await fixture.submit(client, key: "purged", body: emailBody)
                    #expect(other.status == .unprocessableContent, "\(String(buffer: other.body))")
                }
                let retry = try await fixture.submit(client, key: "purged", body: taskBody)
                #expect(retry.status == .gone, "\(step): \(String(buffer: retry.body))")
                #expect(retry.headers[.contentType] == "application/problem+json")
                #expect(retry.headers[.idempotentReplayed] == "true")
                #expect(retry.json["job_id"] as? String == id, "\(step)")
                #expect(retry.json["job_status"] as? String == "succeeded", "\(step)")
            }
            // The claim now names the purged job, as it would a live one.
            let direct = try RedisClient(configuration: RedisConfiguration(url: redis.url))
            let keys = IdempotencyGuard(redis: direct, ttlSeconds: 60, keyPrefix: "gw:")
            #expect(try await direct.get(keys.redisKey(workspace: "acme", key: "purged")) == "d|\(hash)|\(id)")
            await direct.shutdown()
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 0)
            #expect(try await fixture.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.submitted'") == 1)
            #expect(try await fixture.auditRows(action: "job.refused").compactMap(\.2).filter { $0 == "idempotency_job_purged" }.count == 4)
        }
        await redis.stop()
    }

    @Test func theRecordLastsTheTTLFromTheJobsCreationAndThenTheKeyIsFree() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["REDIS_URL": redis.url]) { fixture, client in
            try await fixture.allowBothActions(client)
            let id = try #require(try await fixture.submit(client, key: "old", body: taskBody).json["id"] as? String)
            let recent = try #require(try await fixture.submit(client, key: "recent", body: taskBody).json["id"] as? String)
            // "old" was created more than the TTL ago: its key is free once its job goes.
            try await fixture.execute("UPDATE jobs SET created_at = now() - interval '2 hours' WHERE id = '\(id)'")
            try await purge(fixture, id, idempotencyTTLSeconds: 3600)
            try await purge(fixture, recent, idempotencyTTLSeconds: 3600)
            #expect(try await fixture.count("SELECT count(*)::int FROM idempotency_records") == 1)
            let expiry = try await fixture.count(
                "SELECT round(extract(epoch FROM r.expires_at - now()))::int FROM idempotency_records r WHERE job_id = '\(recent)'")
            #expect((3500...3600).contains(expiry))
            try await flushRedis(redis)
            #expect(try await fixture.submit(client, key: "old", body: taskBody).status == .created)
            #expect(try await fixture.submit(client, key: "recent", body: taskBody).status == .gone)

            // Once expired, the purge deletes the record, and the key may make a new job.
            try await fixture.execute("UPDATE idempotency_records SET expires_at = now() - interval '1 second'")
            _ = try await fixture.db.withClient { postgres in
                try await JobStore(client: postgres, logger: TestEnvironment.logger).purgeHistory(
                    ttlSeconds: 86400, maxPerWorkspace: 1000, batch: 500, idempotencyTTLSeconds: 3600)
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM idempotency_records") == 0)
            try await flushRedis(redis)
            #expect(try await fixture.submit(client, key: "recent", body: taskBody).status == .created)
        }
        await redis.stop()
    }

    @Test func theHistoryCapKeepsRecordsToo() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            var ids: [String] = []
            for i in 0..<3 { ids.append(try #require(try await fixture.submit(client, key: "cap-\(i)", body: taskBody).json["id"] as? String)) }
            try await fixture.db.moveJobs(where: "true", to: "failed")
            let purged = try await fixture.db.withClient { postgres in
                try await JobStore(client: postgres, logger: TestEnvironment.logger).purgeHistory(
                    ttlSeconds: 86400, maxPerWorkspace: 1, batch: 1, idempotencyTTLSeconds: 86400)
            }
            #expect(purged == 2)
            #expect(try await fixture.count(
                "SELECT count(*)::int FROM idempotency_records WHERE job_status = 'failed' AND job_id IN ('\(ids[0])', '\(ids[1])')") == 2)
            let retry = try await fixture.submit(client, key: "cap-0", body: taskBody)
            #expect(retry.status == .gone && retry.json["job_id"] as? String == ids[0])
        }
    }

    @Test func aBatchSkipsKeysWithARecord() async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            try await db.execute("""
                INSERT INTO idempotency_records (workspace_id, idempotency_key, payload_hash, job_id, job_status, expires_at)
                VALUES ('acme', 'gone', '\(String(repeating: "a", count: 64))', 'job_old', 'succeeded', now() + interval '1 hour'),
                       ('acme', 'expired', '\(String(repeating: "a", count: 64))', 'job_older', 'failed', now() - interval '1 second')
                """)
            let outcomes = try await db.withClient { client in
                try await JobStore(client: client, logger: TestEnvironment.logger).insert(
                    ["gone", "new", "expired"].map { JobInsertBatcherTests.insert($0) })
            }.map { try $0.get() }
            guard case .purged(let record) = outcomes[0] else {
                Issue.record("expected .purged, got \(outcomes[0])")
                return
            }
            #expect(record.jobID == "job_old" && record.jobStatus == "succeeded")
            #expect(JobInsertBatcherTests.created(outcomes[1])?.idempotencyKey == "new")
            #expect(JobInsertBatcherTests.created(outcomes[2])?.idempotencyKey == "expired")
            #expect(try await db.count("SELECT count(*)::int FROM jobs") == 2)
            #expect(try await db.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.submitted'") == 2)
        }
    }

    /// Redis has lost the key's claim and the retry's insert starts while the purge is
    /// deleting the key's job: the insert waits on the job row, finds the key free when
    /// the purge commits, and migration 0017's check sends it round again — to the
    /// record, not to a second job. Alone and in a batch.
    @Test(arguments: [false, true])
    func anInsertThatRacesThePurgeOfItsKeysJobIsAnsweredFromTheRecord(batched: Bool) async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            let outcomes = try await db.withClient { client in
                let store = JobStore(client: client, logger: TestEnvironment.logger)
                _ = try await store.insert(JobInsertBatcherTests.insert("raced", tag: "first"))
                for step in JobLifecycle.steps(to: "succeeded", where: "true") + ["UPDATE jobs SET updated_at = now() - interval '2 days'"] {
                    try await client.query(PostgresQuery(unsafeSQL: step), logger: TestEnvironment.logger)
                }
                let (deleted, deletedNow) = AsyncStream.makeStream(of: Void.self)
                let (commit, commitNow) = AsyncStream.makeStream(of: Void.self)
                let purge = Task {
                    try await client.withConnection { connection in
                        try await connection.query("BEGIN", logger: TestEnvironment.logger)
                        try await connection.query(
                            JobStore.ageStatement(ttlSeconds: 86400, batch: 10, idempotencyTTLSeconds: 86400),
                            logger: TestEnvironment.logger)
                        deletedNow.yield()
                        for await _ in commit { break }
                        try await connection.query("COMMIT", logger: TestEnvironment.logger)
                    }
                }
                for await _ in deleted { break }
                let retry = Task {
                    batched
                        ? try await store.insert([
                            JobInsertBatcherTests.insert("raced", tag: "retry"), JobInsertBatcherTests.insert("fresh"),
                        ]).map { try $0.get() }
                        : [try await store.insert(JobInsertBatcherTests.insert("raced", tag: "retry"))]
                }
                // The retry's statement has its snapshot (without the record) and waits
                // on the row the purge deleted; then the purge commits.
                do {
                    try await JobInsertBatcherTests.waitUntil {
                        try await db.count(
                            "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
                            == 1
                    }
                } catch {
                    commitNow.yield()
                    throw error
                }
                commitNow.yield()
                try await purge.value
                return try await retry.value
            }
            guard case .purged(let record) = outcomes[0] else {
                Issue.record("expected .purged, got \(outcomes[0])")
                return
            }
            #expect(record.jobID == "job_first" && record.jobStatus == "succeeded")
            #expect(try await db.count("SELECT count(*)::int FROM jobs WHERE idempotency_key = 'raced'") == 0)
            if batched {
                #expect(JobInsertBatcherTests.created(outcomes[1])?.idempotencyKey == "fresh")
                #expect(try await db.count("SELECT count(*)::int FROM jobs") == 1)
            }
            #expect(try await db.count("SELECT count(*)::int FROM audit_events WHERE action = 'job.submitted'") == (batched ? 2 : 1))
        }
    }

    @Test func aRefusedRetryAfterARedisLossDoesNotPoisonTheKey() async throws {
        let redis = try await RedisServerProcess()
        try await AuthFixture.with(environment: ["REDIS_URL": redis.url]) { fixture, client in
            try await fixture.allowBothActions(client)
            let first = try await fixture.submit(client, key: "lost", body: emailBody)
            #expect(first.status == .created)
            try await flushRedis(redis)
            let other = try await fixture.submit(client, key: "lost", body: taskBody)
            #expect(other.status == .unprocessableContent)
            for _ in 0..<2 {
                let retry = try await fixture.submit(client, key: "lost", body: emailBody)
                #expect(retry.status == .ok, "\(String(buffer: retry.body))")
                #expect(retry.headers[.idempotentReplayed] == "true")
                #expect(retry.json["id"] as? String == first.json["id"] as? String)
            }
            #expect(try await fixture.submit(client, key: "lost", body: taskBody).status == .unprocessableContent)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 1)
        }
        await redis.stop()
    }
}
