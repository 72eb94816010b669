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
    let logger: Logger

    func run() async throws {
        try await runPeriodically(every: .seconds(1), passTimeout: nil, logger: logger, task: "notifications listener") {
            try await postgres.withConnection { connection in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for channel in channels {
                        group.addTask {
                            try await connection.listen(on: channel.name) { notifications in
                                channel.onListening()
                                for try await notification in notifications { channel.onNotification(notification.payload) }
                            }
                        }
                    }
                    // One channel's stream ending means the connection is gone: stop the
                    // others and listen again on a new connection.
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}
