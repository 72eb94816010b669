import Auth
import Foundation
import Gate
import HTTPTypes
import Hummingbird

/// `/console/oidc/start` and `/console/callback`: sign-in through the company's
/// identity provider (authorization code with PKCE). The person's workspaces and
/// scopes come from the ID token's workspaces claim, exactly as from an API JWT.
struct ConsoleOIDCController: Sendable {
    let provider: OIDCProvider
    let signIn: ConsoleSignIn
    /// `CONSOLE_PUBLIC_URL`: the redirect URI registered with the provider is built
    /// from it; without it, from the address the browser used.
    let publicURL: String?

    /// Holds `state` in the browser that started the sign-in, so that a callback
    /// carried into another browser (login CSRF) signs nobody in there. Named by the
    /// state's first characters, so sign-ins started in two tabs do not overwrite each other.
    static func stateCookie(_ state: some StringProtocol) -> String { "gateapi_oidc_" + state.prefix(8) }

    /// `throttled` spends the address's sign-in budget on refusals; the start, which writes
    /// a row for anyone, on every request.
    func addRoutes(to throttled: RouterGroup<AppRequestContext>, failures: AuthFailureThrottle) {
        throttled.group().add(middleware: ConsoleSignInThrottle(failures: failures, everyAttempt: true)).get("oidc/start", use: start)
        throttled.get("callback", use: callback)
    }

    func redirectURI(_ request: Request) -> String {
        let base = publicURL ?? "\(ConsoleCookie.isLoopback(request) ? "http" : "https")://\(request.head.authority ?? "localhost")"
        return base + "/console/callback"
    }

    @Sendable func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let login = try await signIn.beginOIDCLogin()
        let url: String
        do {
            url = try await provider.authorizationURL(login: login, redirectURI: redirectURI(request))
        } catch let failure as OIDCFailure {
            context.logger.error("OIDC discovery failed", metadata: ["error": "\(failure)"])
            throw Problem(.serviceUnavailable, detail: "The identity provider cannot be reached right now; try again in a moment.")
        }
        let cookie = "\(Self.stateCookie(login.state))=\(login.state); Path=/console/callback; Max-Age=\(Int(ConsoleSignIn.oidcLoginLifetime)); HttpOnly; SameSite=Lax"
            + (ConsoleCookie.isLoopback(request) ? "" : "; Secure")
        return ConsolePages.redirect(to: url, headers: [.setCookie: cookie])
    }

    @Sendable func callback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        if let error = query.get("error") {
            throw Problem(.forbidden, detail: "The identity provider did not sign you in (\(String(error.prefix(64)))).")
        }
        guard let state = query.get("state"), let code = query.get("code"),
              let held = ConsoleCookie.value(named: Self.stateCookie(state), in: request),
              constantTimeEquals(Array(held.utf8), Array(state.utf8))
        else {
            throw Problem(.badRequest, detail: "This sign-in was not started in this browser, or it was already used. Start again.")
        }
        guard let (nonce, verifier) = try await signIn.finishOIDCLogin(state: String(state)) else {
            throw Problem(.badRequest, detail: "This sign-in has expired or was already used. Start again.")
        }
        let principal: Principal
        do {
            principal = try await provider.signIn(code: String(code), codeVerifier: verifier, nonce: nonce, redirectURI: redirectURI(request))
        } catch let failure as OIDCFailure {
            context.logger.warning("OIDC sign-in refused", metadata: ["error": "\(failure)"])
            if case .idToken = failure {
                throw Problem(.forbidden, detail: "The identity provider's answer could not be verified, so nobody was signed in.")
            }
            throw Problem(.serviceUnavailable, detail: "The identity provider did not complete the sign-in; try again in a moment.")
        }
        guard !principal.workspaces.isEmpty else {
            throw Problem(.forbidden, detail: "Your identity provider grants you no GateAPI workspace; ask an administrator for access.")
        }
        let identity = ConsoleIdentity(subject: principal.id, memberships: principal.workspaces)
        let actor = AuditActor(kind: .user, id: principal.id, ip: context.remoteIP, requestID: context.requestID)
        let sessionID = try await signIn.startSession(for: identity, with: "oidc", actor: actor)
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: ConsoleCookie.set(sessionID, maxAge: signIn.settings.absoluteLimit, request: request)))
        headers.append(HTTPField(name: .setCookie, value: "\(Self.stateCookie(state))=; Path=/console/callback; Max-Age=0; HttpOnly; SameSite=Lax"))
        return ConsolePages.redirect(to: ConsoleController.landing(identity), headers: headers)
    }
}
