import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOCore

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// A signed-in console browser, as far as the server can tell: the session cookie and
/// the CSRF token its pages carry.
struct ConsoleBrowser: Sendable {
    let cookie: String
    let csrf: String

    var headers: HTTPFields { [.cookie: "\(ConsoleCookie.name)=\(cookie)"] }

    func get(_ client: any TestClientProtocol, _ path: String) async throws -> TestResponse {
        try await client.execute(uri: path, method: .get, headers: headers)
    }

    /// Posts a form as a browser does; the CSRF token is added unless `csrf: nil`.
    func post(_ client: any TestClientProtocol, _ path: String, _ fields: [(String, String)], csrf: String?? = .some(nil)) async throws
        -> TestResponse
    {
        var fields = fields
        switch csrf {
        case .some(nil): fields.append(("csrf", self.csrf))
        case .some(let token?): fields.append(("csrf", token))
        case nil: break
        }
        var headers = self.headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: formBody(fields)))
    }
}

func formBody(_ fields: [(String, String)]) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
}

extension AuthFixture {
    /// A single-use sign-in link's secret, as `gate-api console link` makes it.
    func consoleLink(sub: String, scopes: [String: [String]], lifetime: Duration = .seconds(600)) async throws -> String {
        try await db.withClient { client in
            let signIn = ConsoleSignIn(store: ConsoleSessionStore(client: client, logger: TestEnvironment.logger), settings: .init())
            let memberships = scopes.mapValues { Set($0.compactMap(Scope.init(rawValue:))) }
            return try await signIn.makeLink(
                for: ConsoleIdentity(subject: sub, memberships: memberships), lifetime: lifetime, createdBy: "test",
                actor: AuditActor(kind: .cli, id: "test"))
        }
    }

    func redeem(_ client: any TestClientProtocol, link: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await client.execute(uri: "/console/signin", method: .post, headers: headers, body: ByteBuffer(string: "link=\(link)"))
    }

    /// Signs `sub` in through a link; the browser then holds the session.
    func consoleBrowser(
        _ client: any TestClientProtocol, sub: String = "rita",
        scopes: [String] = ["approvals:read", "approvals:decide", "jobs:read"]
    ) async throws -> ConsoleBrowser {
        let signedIn = try await redeem(client, link: try await consoleLink(sub: sub, scopes: ["acme": scopes]))
        guard signedIn.status == .seeOther, let cookie = Self.sessionCookie(signedIn) else {
            throw FixtureError("sign-in: \(signedIn.status) \(signedIn.headers)")
        }
        let home = try await client.execute(uri: "/console", method: .get, headers: [.cookie: "\(ConsoleCookie.name)=\(cookie)"])
        guard let csrf = Self.csrf(in: String(buffer: home.body)) else { throw FixtureError("no CSRF token on /console") }
        return ConsoleBrowser(cookie: cookie, csrf: csrf)
    }

    static func sessionCookie(_ response: TestResponse) -> String? {
        guard let header = response.headers[.setCookie], header.hasPrefix("\(ConsoleCookie.name)=") else { return nil }
        let value = header.dropFirst(ConsoleCookie.name.count + 1).prefix { $0 != ";" }
        return value.isEmpty ? nil : String(value)
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}
