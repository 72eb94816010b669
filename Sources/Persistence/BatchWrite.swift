import PostgresNIO

/// Writes a batch in one statement (`together`); when Postgres refused one of its values
/// (a data exception or an integrity constraint, SQLSTATE classes 22 and 23: nothing of
/// the statement was written), writes each input `alone`, in the batch's order, so that
/// one input's refusal does not fail the others. Any other error fails every input: it
/// is the connection's or the server's, which one by one would only meet again.
func writeBatch<Input, Output>(
    _ inputs: [Input], together: () async throws -> [Result<Output, any Error>],
    alone: (Input) async throws -> Output
) async -> [Result<Output, any Error>] {
    do {
        return try await together()
    } catch let error as PSQLError where inputs.count > 1 && refusesAValue(error) {
        var results: [Result<Output, any Error>] = []
        for input in inputs {
            do {
                results.append(.success(try await alone(input)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    } catch {
        return inputs.map { _ in .failure(error) }
    }
}

/// A data exception or an integrity constraint (SQLSTATE classes 22 and 23): a value of
/// some input, not the connection or the server.
func refusesAValue(_ error: PSQLError) -> Bool {
    guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
    return state.hasPrefix("22") || state.hasPrefix("23")
}
