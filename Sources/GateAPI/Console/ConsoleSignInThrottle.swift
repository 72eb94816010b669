import Hummingbird

/// The console's doors before sign-in (redeeming a link, starting and finishing an
/// OpenID Connect sign-in) each cost a Postgres statement, and anyone can knock. They
/// spend tokens of the address's authentication-failure bucket (`AuthFailureThrottle`,
/// shared with the API): every refused attempt, and with `everyAttempt` (starting an
/// OpenID Connect sign-in, which writes a row before anyone is known) every attempt. A
/// person signs in a few times a day; a script hammering these routes gets a 429 page
/// instead of database work.
struct ConsoleSignInThrottle: RouterMiddleware {
    typealias Context = AppRequestContext
    let failures: AuthFailureThrottle
    var everyAttempt = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let retryAfter = failures.retryAfter(context.remoteIP) {
            var problem = Problem(
                .tooManyRequests, detail: "Too many sign-in attempts from your address; try again in \(retryAfter) seconds.")
            problem.headers[.retryAfter] = String(retryAfter)
            throw problem
        }
        if everyAttempt { failures.failed(context.remoteIP) }
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            if !everyAttempt { failures.failed(context.remoteIP) }
            throw error
        }
        // A refused link or callback answers with a page about it: 4xx, or back to the
        // sign-in page saying why (`?refused=`).
        let refused = response.status.code >= 400 || response.headers[.location]?.contains("refused=") == true
        if refused, !everyAttempt { failures.failed(context.remoteIP) }
        return response
    }
}
