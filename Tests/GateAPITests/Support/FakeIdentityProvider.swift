import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import NIOConcurrencyHelpers
import NIOCore

/// A real OpenID Connect provider on 127.0.0.1 for the console's sign-in tests:
/// discovery, JWKS (one ES256 key), an authorization endpoint that signs in
/// `person` at once (redirecting back with a one-time code), and a token endpoint that
/// checks the client's secret, the redirect URI and the PKCE verifier before it issues
/// an ID token with the request's nonce. `tamper` changes the next ID token.
final class FakeIdentityProvider: Sendable {
    struct Person: Sendable {
        var subject: String
        var workspaces: [String: [String]]
        var email: String? = nil
    }

    struct Grant: Sendable {
        let clientID: String
        let redirectURI: String
        let challenge: String
        let nonce: String
        let person: Person
    }

    enum Tamper: Sendable { case none, nonce, audience, signature }

    let clientID = "gateapi-console"
    let clientSecret = "console-client-secret-0123456789"
    let key = ES256PrivateKey()
    let person = NIOLockedValueBox(Person(subject: "rita@acme.example", workspaces: ["acme": ["approvals:read", "approvals:decide"]]))
    let tamper = NIOLockedValueBox(Tamper.none)
    let grants = NIOLockedValueBox<[String: Grant]>([:])
    let tokenRequests = NIOLockedValueBox(0)
    let port = NIOLockedValueBox(0)

    var issuer: String { "http://127.0.0.1:\(port.withLockedValue { $0 })" }

    /// Runs `body` with the provider listening; `environment` configures GateAPI for it.
    static func with(_ body: @escaping @Sendable (FakeIdentityProvider, [String: String]) async throws -> Void) async throws {
        let provider = FakeIdentityProvider()
        try await provider.application.test(.live) { client in
            provider.port.withLockedValue { $0 = client.port! }
            try await body(provider, [
                "OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": provider.clientID, "OIDC_CLIENT_SECRET": provider.clientSecret,
            ])
        }
    }

    var application: some ApplicationProtocol {
        let router = Router()
        router.get("/.well-known/openid-configuration") { _, _ -> Response in
            Self.json([
                "issuer": self.issuer, "authorization_endpoint": "\(self.issuer)/authorize", "token_endpoint": "\(self.issuer)/token",
                "jwks_uri": "\(self.issuer)/jwks", "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
            ])
        }
        router.get("/jwks") { _, _ -> Response in
            let p = self.key.publicKey.parameters!
            return Self.json(["keys": [["kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "idp-1", "use": "sig", "x": p.x, "y": p.y]]])
        }
        router.get("/authorize") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard query.get("response_type") == "code", query.get("code_challenge_method") == "S256",
                  let client = query.get("client_id"), let redirect = query.get("redirect_uri"), let state = query.get("state"),
                  let challenge = query.get("code_challenge"), let nonce = query.get("nonce")
            else { return Response(status: .badRequest) }
            let code = UUID().uuidString
            self.grants.withLockedValue {
                $0[code] = Grant(
                    clientID: String(client), redirectURI: String(redirect), challenge: String(challenge), nonce: String(nonce),
                    person: self.person.withLockedValue { $0 })
            }
            return Response(status: .found, headers: [.location: "\(redirect)?code=\(code)&state=\(state)"])
        }
        router.post("/token") { request, _ -> Response in
            self.tokenRequests.withLockedValue { $0 += 1 }
            let body = String(buffer: try await request.body.collect(upTo: 65536))
            var form: [String: String] = [:]
            for pair in body.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                if parts.count == 2 { form[parts[0]] = parts[1] }
            }
            let basic = "Basic " + Data("\(self.clientID):\(self.clientSecret)".utf8).base64EncodedString()
            guard request.headers[.authorization] == basic else { return Self.json(["error": "invalid_client"], status: .unauthorized) }
            // A code is good once.
            guard form["grant_type"] == "authorization_code", let code = form["code"],
                  let grant = self.grants.withLockedValue({ $0.removeValue(forKey: code) }), grant.clientID == self.clientID,
                  form["redirect_uri"] == grant.redirectURI, let verifier = form["code_verifier"],
                  Self.challenge(verifier) == grant.challenge
            else { return Self.json(["error": "invalid_grant"], status: .badRequest) }
            let token = try await self.idToken(for: grant)
            return Self.json(["id_token": token, "access_token": "opaque", "token_type": "Bearer", "expires_in": 300])
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    struct IDClaims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var nonce: String
        var ws: [String: [String]]
        var email: String?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func idToken(for grant: Grant) async throws -> String {
        let tamper = self.tamper.withLockedValue { value in defer { value = .none }; return value }
        let now = Date()
        let claims = IDClaims(
            iss: .init(value: issuer), sub: .init(value: grant.person.subject),
            aud: .init(value: [tamper == .audience ? "someone-else" : grant.clientID]), exp: .init(value: now.addingTimeInterval(300)),
            iat: .init(value: now), nonce: tamper == .nonce ? "replayed-nonce" : grant.nonce, ws: grant.person.workspaces,
            email: grant.person.email)
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: tamper == .signature ? ES256PrivateKey() : key, kid: "idp-1")
        return try await keys.sign(claims, kid: "idp-1")
    }

    static func challenge(_ verifier: String) -> String {
        Data(SHA256.hash(data: Array(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: object)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// What a browser does at the provider: follows the authorization URL and returns
    /// where the provider sends it back (the console's callback with code and state).
    func authorize(_ url: String) async throws -> String {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        defer { _ = client.shutdown() }
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        guard response.status == .found, let location = response.headers.first(name: "Location") else {
            throw FixtureError("authorize: \(response.status)")
        }
        return location
    }
}
