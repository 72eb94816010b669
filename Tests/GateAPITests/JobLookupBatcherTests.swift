import Foundation
import Gate
import PostgresNIO
import Testing

@testable import Persistence

/// Job reads sent together are one statement; each key gets its own job, and only from
/// its own workspace.
@Suite struct JobLookupBatcherTests {
    @Test func aBatchOfKeysFindsEachJobOnlyInItsWorkspace() async throws {
        try await TestDatabase.withFresh { db in
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme'), ('other', 'other')")
            try await db.withClient { client in
                let store = JobStore(client: client, logger: TestEnvironment.logger)
                var ids: [String] = []
                for key in ["a", "b"] {
                    guard case .created(let job) = try await store.insert(JobInsertBatcherTests.insert(key)) else {
                        Issue.record("not created")
                        return
                    }
                    ids.append(job.id)
                }
                let keys = [
                    JobKey(workspaceID: "acme", id: ids[1]), JobKey(workspaceID: "other", id: ids[0]),
                    JobKey(workspaceID: "acme", id: "job_missing"), JobKey(workspaceID: "acme", id: ids[0]),
                    JobKey(workspaceID: "acme", id: ids[1]),
                ]
                let found = try await store.find(keys)
                #expect(found.map { $0?.idempotencyKey } == ["b", nil, nil, "a", "b"])
                #expect(found[0] == (try await store.find(workspaceID: "acme", id: ids[1])))

                // Through the batcher, many at once: each caller gets its own answer.
                let lookups = JobLookupBatcher(store: store, maxInFlight: 1)
                let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                    for n in 0..<60 {
                        let key = keys[n % keys.count]
                        group.addTask { (n, try await lookups.find(workspaceID: key.workspaceID, id: key.id)?.idempotencyKey) }
                    }
                    var answers = [String?](repeating: nil, count: 60)
                    for try await (n, key) in group { answers[n] = key }
                    return answers
                }
                #expect(answers == (0..<60).map { (["b", nil, nil, "a", "b"] as [String?])[$0 % 5] })
                #expect(lookups.waitingCount == 0)
            }
        }
    }
}
