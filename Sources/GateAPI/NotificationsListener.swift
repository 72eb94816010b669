import Logging
import PostgresNIO
import ServiceLifecycle

/// Holds one connection in `LISTEN` on every channel this process follows (job state
/// changes, configuration changes) and hands each notification to its channel's
/// handler; listens again on a new connection a second after the connection drops.
struct NotificationsListener: Service {
    struct Channel: Sendable {
        let name: String
        /// Called each time the channel is (again) being listened to.
        var onListening: @Sendable () -> Void = {}
        let onNotification: @Sendable (String) -> Void
    }

    let postgres: PostgresClient
    let channels: [Channel]
    /// How often the listening connection is asked a question. A connection that went
    /// away without a word (a half-open TCP connection to a hosted Postgres, or one the
    /// pool handed out as it closed) would otherwise leave this replica deaf until restart:
    /// no event streams or long-polls woken by other replicas' changes.
    var heartbeat: Duration = .seconds(15)
    let logger: Logger

    func run() async throws {
        let postgres = self.postgres, channels = self.channels, heartbeat = self.heartbeat, logger = self.logger
        try await runPeriodically(every: .seconds(1), passTimeout: nil, logger: logger, task: "notifications listener") {
            try await postgres.withConnection { connection in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Abandoned, not awaited, once the heartbeat gives up on the connection:
                    // a stream on a dead connection may never end.
                    group.addTask {
                        try await abandoningOnCancellation {
                            try await Self.listen(on: channels, connection: connection)
                        }
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: heartbeat)
                            do {
                                try await withTimeout(workerDatabaseTimeout, dependency: "postgres") {
                                    _ = try await connection.query("SELECT 1", logger: logger)
                                }
                            } catch {
                                // Closed, so that the pool does not hand it out again.
                                _ = try? await withTimeout(workerDatabaseTimeout, dependency: "postgres") { try await connection.close() }
                                throw error
                            }
                        }
                    }
                    // Either ending means the connection is gone: stop the other and listen
                    // again on a new connection.
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    private static func listen(on channels: [Channel], connection: PostgresConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for channel in channels {
                group.addTask {
                    try await connection.listen(on: channel.name) { notifications in
                        channel.onListening()
                        for try await notification in notifications { channel.onNotification(notification.payload) }
                    }
                }
            }
            // One channel's stream ending means the connection is gone.
            try await group.next()
            group.cancelAll()
        }
    }
}
