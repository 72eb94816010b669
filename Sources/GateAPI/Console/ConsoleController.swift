import Auth
import Foundation
import Gate
import HTTPTypes
import Hummingbird

/// `/console`: signing in with a single-use link, signing out, the person's
/// workspaces, and the console's own script and style sheet.
struct ConsoleController: Sendable {
    let pages: ConsolePages
    let signIn: ConsoleSignIn
    /// Whether the sign-in page offers the identity provider (`OIDC_ISSUER` is set).
    let identityProvider: Bool

    func addRoutes(
        to console: RouterGroup<AppRequestContext>, signedIn: RouterGroup<AppRequestContext>, throttled: RouterGroup<AppRequestContext>
    ) {
        console.get("signin", use: signInPage)
        throttled.post("signin", use: redeem)
        console.get("assets/console.css") { _, _ in Self.asset(PackageResources.console_css, type: "text/css; charset=utf-8") }
        console.get("assets/console.js") { _, _ in Self.asset(PackageResources.console_js, type: "text/javascript; charset=utf-8") }
        signedIn.get(use: home)
        signedIn.post("signout", use: signOut)
    }

    static func asset(_ bytes: [UInt8], type: String) -> Response {
        var headers: HTTPFields = [.contentType: type, .cacheControl: "public, max-age=300"]
        ConsolePages.securityHeaders(&headers)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Showing the page does not use the link: mail scanners and chat previews fetch
    /// links, and would otherwise spend it. Only the button (a POST) does.
    @Sendable func signInPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let refused: String? =
            switch query.get("refused") {
            case "used": "That sign-in link was already used."
            case "expired": "That sign-in link has expired."
            case "unknown": "That sign-in link is not valid."
            default: query.get("expired") == "true" ? "Your session ended; sign in again." : query.get("signed_out") != nil ? "You are signed out." : nil
            }
        let link = query.get("link").flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
        return pages.html("console-signin", consoleView(["title": "Sign in", "link": link, "refused": refused, "oidc": identityProvider]))
    }

    @Sendable func redeem(_ request: Request, context: AppRequestContext) async throws -> Response {
        // A sign-in started by another site would sign the browser in as someone else
        // (login CSRF): a browser's POST names its origin, which must be this one.
        if let origin = request.headers[.origin], !Self.isSameOrigin(origin, request: request) {
            throw Problem(.forbidden, detail: "Sign-in must start from this console's own page.")
        }
        let form = try await ConsoleForm.read(request, context: context)
        let actor = AuditActor(kind: .anonymous, id: nil, ip: context.remoteIP, requestID: context.requestID)
        switch try await signIn.redeem(link: form["link"] ?? "", actor: actor) {
        case .failure(let refusal):
            return ConsolePages.redirect(to: "/console/signin?refused=\(refusal.rawValue)")
        case .success(let (sessionID, identity)):
            let headers: HTTPFields = [.setCookie: ConsoleCookie.set(sessionID, maxAge: signIn.settings.absoluteLimit, request: request)]
            return ConsolePages.redirect(to: Self.landing(identity), headers: headers)
        }
    }

    /// Where a sign-in lands: the queue of a reviewer's only workspace, else the list
    /// of workspaces (whose links go where each person's scopes allow).
    static func landing(_ identity: ConsoleIdentity) -> String {
        guard identity.memberships.count == 1, let (workspace, scopes) = identity.memberships.first,
              scopes.contains(.approvalsRead)
        else { return "/console" }
        return "/console/w/\(workspace)/approvals"
    }

    static func isSameOrigin(_ origin: String, request: Request) -> Bool {
        guard let host = request.head.authority, let url = URL(string: origin), let originHost = url.host else {
            return false
        }
        let port = url.port.map { ":\($0)" } ?? ""
        let bracketed = originHost.contains(":") ? "[\(originHost)]" : originHost
        return "\(bracketed)\(port)" == host
    }

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let session = context.consoleSession else { return ConsolePages.redirect(to: "/console/signin") }
        let workspaces = session.identity.memberships.keys.sorted().map { id -> [String: Any] in
            let scopes = session.identity.memberships[id] ?? []
            var sections: [[String: String]] = []
            if scopes.contains(.approvalsRead) { sections.append(["name": "Queue", "path": "approvals"]) }
            if scopes.contains(.auditRead) { sections.append(["name": "Audit", "path": "audit"]) }
            if scopes.contains(.policiesAdmin) { sections.append(["name": "Policies", "path": "admin/policies"]) }
            if scopes.contains(.keysAdmin) { sections.append(["name": "API keys", "path": "admin/keys"]) }
            return ["id": id, "scopes": scopes.map(\.rawValue).sorted().joined(separator: ", "), "sections": sections]
        }
        return pages.html(
            "console-workspaces",
            consoleView(["title": "Workspaces", "subject": session.identity.subject, "csrf": session.csrfToken, "workspaces": workspaces]))
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.read(request, context: context)
        guard let session = context.consoleSession, let sessionID = context.consoleSessionID,
              ConsoleSignIn.csrfMatches(form["csrf"], session)
        else {
            throw Problem(.forbidden, detail: "This form is not from your current console session. Reload the page and try again.")
        }
        try await signIn.signOut(sessionID, actor: SecurityAudit.actor(context.principal, context: context))
        return ConsolePages.redirect(to: "/console/signin?signed_out=1", headers: [.setCookie: ConsoleCookie.clear(request: request)])
    }
}
