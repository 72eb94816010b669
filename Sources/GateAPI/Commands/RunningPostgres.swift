import Logging
import PostgresNIO

/// Runs `body` with a short-lived pooled client, for commands that do some queries
/// and exit. Gives up after `timeout` when Postgres does not answer at all; `body`
/// itself (a long migration, say) has no time limit.
func withRunningPostgres<T: Sendable>(
    _ configuration: PostgresClient.Configuration, logger: Logger, timeout: Duration = .seconds(10),
    _ body: @escaping @Sendable (PostgresClient) async throws -> T
) async throws -> T {
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            await client.run()
            return nil
        }
        defer { group.cancelAll() }
        try await withTimeout(timeout, dependency: "postgres") {
            try await client.query("SELECT 1")
            return ()
        }
        return try await body(client)
    }
}

/// A short reason for an error from PostgresNIO, without connection secrets.
func describe(_ error: any Error) -> String {
    if let error = error as? PSQLError {
        if let message = error.serverInfo?[.message] { return message }
        return "\(error.code)" + (error.underlying.map { " (\($0))" } ?? "")
    }
    if error is DependencyTimeout { return "no answer in time" }
    return "\(error)"
}
