import Gate
import Hummingbird
import HTTPTypes

/// Every console answer is a page: an error anywhere below (the API's own middleware
/// included: 404 for a foreign workspace, 403 for a missing scope, 503 for an outage)
/// is rendered as HTML with the same status and words, never as problem+json.
struct ConsoleErrorPages: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: ConsolePages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            ConsolePages.securityHeaders(&response.headers, csp: response.headers[.contentSecurityPolicy] ?? ConsolePages.contentSecurityPolicy)
            return response
        } catch {
            return Self.page(ProblemMiddleware.problem(for: error, logger: context.logger), context: context, pages: pages)
        }
    }

    /// The error page; signed in, with the person and the sign-out form in its header.
    static func page(_ problem: Problem, context: Context, pages: ConsolePages) -> Response {
        var headers = problem.headers
        headers[.contentType] = nil
        return pages.html(
            "console-error",
            consoleView([
                "title": problem.title, "heading": heading(problem.status), "detail": problem.detail,
                "status": String(problem.status.code), "request_id": context.requestID,
                "back": "/console", "back_label": "Back to the console",
                "subject": context.consoleSession?.identity.subject, "csrf": context.consoleSession?.csrfToken,
            ]),
            status: problem.status, headers: headers)
    }

    static func heading(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400, 413, 415, 422: return "That request could not be used"
        case 403: return "You are not allowed to do that"
        case 404: return "Not found"
        case 409: return "That can no longer be done"
        case 429: return "Too many requests; wait a moment"
        case 503: return "GateAPI cannot reach its database right now; try again in a moment"
        default: return "Something went wrong"
        }
    }
}

/// The signed-in part of the console: the session cookie names a live session, whose
/// person becomes the request's principal (the same one a JWT with these claims gives,
/// so every rule and audit row of the API applies). Without one: to the sign-in page.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let signIn: ConsoleSignIn
    let pages: ConsolePages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let sessionID = ConsoleCookie.sessionID(request), let session = try await signIn.session(sessionID) else {
            // A cookie that names no live session: the session ended (idle, absolute limit, sign-out).
            guard ConsoleCookie.sessionID(request) != nil else { return ConsolePages.redirect(to: "/console/signin") }
            return ConsolePages.redirect(to: "/console/signin?expired=true", headers: [.setCookie: ConsoleCookie.clear(request: request)])
        }
        var context = context
        context.principal = session.identity.principal
        context.consoleSession = session
        context.consoleSessionID = sessionID
        do {
            return try await next(request, context)
        } catch {
            return ConsoleErrorPages.page(ProblemMiddleware.problem(for: error, logger: context.logger), context: context, pages: pages)
        }
    }
}
