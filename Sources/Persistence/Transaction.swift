import Gate
import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction`, but the closure's own error comes out as itself rather than
    /// wrapped in `PostgresTransactionError`, so callers can `catch` their domain errors.
    public func transaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> Result {
        try await unwrappingTransactionError { try await withTransaction(logger: logger, body) }
    }
}

extension PostgresConnection {
    public func transaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> Result {
        try await unwrappingTransactionError { try await withTransaction(logger: logger, body) }
    }
}

private func unwrappingTransactionError<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
        return try await body()
    } catch let error as PostgresTransactionError {
        throw error.underlying
    }
}

extension PostgresTransactionError {
    /// What went wrong first: the closure's error if there was one (the rollback
    /// that followed is secondary), else BEGIN's or COMMIT's.
    var underlying: any Error { closureError ?? beginError ?? commitError ?? rollbackError ?? self }
}
