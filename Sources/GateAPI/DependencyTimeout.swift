/// A dependency did not answer in time; the client gets 503, not a hung request.
struct DependencyTimeout: Error, Sendable {
    let dependency: String
}

/// Runs `operation`, cancelling it after `limit`. PostgresClient queues a request
/// while it cannot connect (up to a minute); a request should fail fast instead.
func withTimeout<T: Sendable>(
    _ limit: Duration, dependency: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: TimeoutOutcome<T>.self) { group in
        group.addTask { .finished(try await operation()) }
        group.addTask {
            try await Task.sleep(for: limit)
            return .timedOut
        }
        defer { group.cancelAll() }
        switch try await group.next()! {
        case .finished(let value): return value
        case .timedOut: throw DependencyTimeout(dependency: dependency)
        }
    }
}

private enum TimeoutOutcome<T: Sendable>: Sendable {
    case finished(T)
    case timedOut
}
