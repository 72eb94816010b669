import Gate
import Logging
import Persistence
import ServiceLifecycle

/// The backstop of event streams and long-polls: every `interval`, the jobs this
/// replica's waiters follow are read in one statement (per 500), and a waiter whose job
/// changed since it last read it is woken. Normally a notification on `gateapi_jobs`
/// wakes it first; this catches one lost while the listening connection was being
/// re-established. Idle waiters cost no query of their own: before this each of them
/// re-read its job every 2 s, so a tenant holding open streams put load on Postgres in
/// proportion to their number.
struct JobEventsResync: Service {
    let events: JobEvents
    let jobs: JobStore
    var interval: Duration = .seconds(2)
    let logger: Logger

    static let chunk = 500

    func run() async throws {
        let events = self.events, jobs = self.jobs
        try await runPeriodically(every: interval, passTimeout: .seconds(30), logger: logger, task: "job events re-read") {
            try await Self.pass(events: events, jobs: jobs)
        }
    }

    static func pass(events: JobEvents, jobs: JobStore) async throws {
        let watched = events.watchedJobs()
        for start in stride(from: 0, to: watched.count, by: chunk) {
            let part = Array(watched[start..<min(start + chunk, watched.count)])
            let records = try await withTimeout(workerDatabaseTimeout, dependency: "postgres") {
                try await jobs.find(part.map(\.job))
            }
            for (entry, record) in zip(part, records) {
                for signal in entry.signals where signal.isStale(comparedWith: record?.updatedAt) { signal.fire() }
            }
        }
    }
}
