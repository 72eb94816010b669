import Testing

@testable import Actions

/// The failure `operation` throws; records an issue if it succeeds or throws something else.
func executionFailure<T>(_ operation: () async throws -> T) async -> ExecutionFailure? {
    do {
        _ = try await operation()
        Issue.record("expected an ExecutionFailure, got success")
    } catch let failure as ExecutionFailure {
        return failure
    } catch {
        Issue.record("expected an ExecutionFailure, got \(error)")
    }
    return nil
}
