/// Polls `condition` every `interval` until it holds (true) or `limit` has passed (false).
func eventually(
    within limit: Duration = .seconds(5), every interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: interval)
    }
    return true
}
