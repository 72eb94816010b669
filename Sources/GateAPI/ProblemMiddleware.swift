import Gate
import Hummingbird
import HTTPTypes
import Logging
import Persistence
import PostgresNIO
import _ConnectionPoolModule
import Redis

/// Turns every error a handler throws into a problem+json response, so no client
/// ever sees a stack trace, a Hummingbird default body or an internal message. A
/// `Problem` renders itself; this maps the rest (dependency failures, Hummingbird's
/// own errors) onto one.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response(from: request, context: context)
        } catch {
            return Self.problem(for: error, logger: context.logger).response(from: request, context: context)
        }
    }

    static func problem(for error: any Error, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        // The use cases' refusals, as the REST API answers them (Problem+Gate.swift).
        case let refusal as WebhookSecretRefusal:
            return Problem(refusal)
        case let refusal as GmailCredentialsRefusal:
            return Problem(refusal)
        case let busy as AuditStoreError:
            return Problem(busy)
        case let error as HTTPError:
            var problem = Problem(error.status, detail: error.body ?? defaultDetail(error.status))
            problem.headers = error.headers
            return problem
        case let error as RedisError:
            logger.error("redis failure", metadata: ["error": "\(error)"])
            switch error {
            case .unavailable, .timeout, .shutdown: return .serviceUnavailable("redis")
            default: return Problem(.internalServerError, detail: "internal error")
            }
        case let error as DependencyTimeout:
            logger.error("dependency timed out", metadata: ["dependency": "\(error.dependency)"])
            return .serviceUnavailable(error.dependency)
        case is ConnectionPoolError:
            logger.error("postgres pool failure", metadata: ["error": "\(error)"])
            return .serviceUnavailable("postgres")
        case let error as PSQLError where TransactionConflict.isConflict(error):
            // Still conflicting after the stores' retries: nothing was written; try again.
            logger.error("postgres conflict", metadata: ["error": "\(error.serverInfo?[.sqlState] ?? "")"])
            return .serviceUnavailable("postgres")
        case let error as PSQLError where isConnectionFailure(error):
            logger.error("postgres failure", metadata: ["error": "\(error.code)"])
            return .serviceUnavailable("postgres")
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return Problem(.internalServerError, detail: "internal error")
        }
    }

    static func isConnectionFailure(_ error: PSQLError) -> Bool {
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
            return true
        default:
            // SQLSTATE class 08 (connection exception), 57P0x (shutdown, cannot connect now).
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P0")
        }
    }

    private static func defaultDetail(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: return "no resource at this path"
        case .methodNotAllowed: return "method not allowed on this path"
        case .contentTooLarge: return "request body is larger than the server accepts"
        case .badRequest: return "malformed request"
        default: return status.reasonPhrase
        }
    }
}
