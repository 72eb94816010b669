import AsyncHTTPClient
import Gate
import Auth
import Foundation
import GateCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Console sign-in settings for the company's OpenID Connect provider
/// (`OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`; docs/console.md).
struct OIDCSettings: Sendable {
    var issuer: String
    var clientID: String
    var clientSecret: String
    /// The ID token claim with workspace id → scope names, read like a JWT's `ws`.
    var workspacesClaim = "ws"
    /// The ID token claim that names the person (`sub`, or e.g. `email` when the
    /// provider's `sub` is an opaque id): it must be the id API JWTs and keys' `acts_for` use.
    var subjectClaim = "sub"
    var scopes = "openid profile email"
    var requestTimeout: Duration = .seconds(10)
}

/// Why an OpenID Connect sign-in did not complete; the page says it in words, the log
/// says which.
enum OIDCFailure: Error, Equatable {
    case discovery(String)
    case tokenEndpoint(String)
    case idToken(JWTRejection)
}

/// The identity provider as the console uses it: its discovery document (fetched on
/// first use and again hourly), the authorization URL, the code exchange at the token
/// endpoint (client secret and PKCE verifier), and the ID token's verification against
/// its JWKS: issuer, audience (the client id), lifetime and the sign-in's nonce.
final class OIDCProvider: Sendable {
    struct Discovery: Decodable, Sendable {
        let issuer: String
        let authorizationEndpoint: String
        let tokenEndpoint: String
        let jwksURI: String
        enum CodingKeys: String, CodingKey {
            case issuer
            case authorizationEndpoint = "authorization_endpoint"
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
        }
    }

    private struct Loaded: Sendable {
        let discovery: Discovery
        let verifier: JWTVerifier
        let at: ContinuousClock.Instant
    }

    let settings: OIDCSettings
    private let loaded = NIOLockedValueBox<Loaded?>(nil)
    private let logger: Logger
    static let rediscoverInterval = Duration.seconds(3600)

    init(settings: OIDCSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    private func current() async throws -> Loaded {
        if let loaded = loaded.withLockedValue({ $0 }), ContinuousClock.now - loaded.at < Self.rediscoverInterval { return loaded }
        let url = settings.issuer.hasSuffix("/") ? settings.issuer + ".well-known/openid-configuration"
            : settings.issuer + "/.well-known/openid-configuration"
        let discovery: Discovery
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(Int64(settings.requestTimeout.components.seconds)))
            guard response.status == .ok else { throw OIDCFailure.discovery("status \(response.status.code)") }
            let body = try await response.body.collect(upTo: 1 << 20)
            discovery = try JSONDecoder().decode(Discovery.self, from: Data(buffer: body))
        } catch let failure as OIDCFailure {
            throw failure
        } catch {
            throw OIDCFailure.discovery("\(error)")
        }
        // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
        guard discovery.issuer == settings.issuer else { throw OIDCFailure.discovery("issuer \(discovery.issuer) is not \(settings.issuer)") }
        var jwt = JWTSettings(issuer: discovery.issuer, audience: settings.clientID)
        jwt.jwksURL = discovery.jwksURI
        jwt.workspacesClaim = settings.workspacesClaim
        // Signed by the provider's keys only (HS256 would be the client secret, which this server also holds).
        jwt.allowedAlgorithms = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
        let fresh = Loaded(discovery: discovery, verifier: try await JWTVerifier(settings: jwt, logger: logger), at: .now)
        loaded.withLockedValue { $0 = fresh }
        return fresh
    }

    /// Where to send the browser to sign in.
    func authorizationURL(login: ConsoleSignInOIDC, redirectURI: String) async throws -> String {
        let endpoint = try await current().discovery.authorizationEndpoint
        var query = URLQuery()
        query.add("response_type", "code")
        query.add("client_id", settings.clientID)
        query.add("redirect_uri", redirectURI)
        query.add("scope", settings.scopes)
        query.add("state", login.state)
        query.add("nonce", login.nonce)
        query.add("code_challenge", login.codeChallenge)
        query.add("code_challenge_method", "S256")
        return endpoint + (endpoint.contains("?") ? "&" : "?") + query.text
    }

    /// Exchanges the code for an ID token and verifies it; the person it names.
    func signIn(code: String, codeVerifier: String, nonce: String, redirectURI: String) async throws -> Principal {
        let loaded = try await current()
        var form = URLQuery()
        form.add("grant_type", "authorization_code")
        form.add("code", code)
        form.add("redirect_uri", redirectURI)
        form.add("code_verifier", codeVerifier)
        var request = HTTPClientRequest(url: loaded.discovery.tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        // client_secret_basic (RFC 6749 §2.3.1: both parts form-encoded first).
        let credentials = "\(URLQuery.encoded(settings.clientID)):\(URLQuery.encoded(settings.clientSecret))"
        request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        request.body = .bytes(ByteBuffer(string: form.text))
        let idToken: String
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(settings.requestTimeout.components.seconds)))
            let body = try await response.body.collect(upTo: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            guard response.status == .ok, let token = object?["id_token"] as? String else {
                throw OIDCFailure.tokenEndpoint("status \(response.status.code): \(object?["error"] as? String ?? "no id_token")")
            }
            idToken = token
        } catch let failure as OIDCFailure {
            throw failure
        } catch {
            throw OIDCFailure.tokenEndpoint("\(error)")
        }
        let principal: Principal
        do {
            principal = try await loaded.verifier.verify(idToken, nonce: nonce)
        } catch {
            throw OIDCFailure.idToken(error)
        }
        guard settings.subjectClaim != "sub" else { return principal }
        guard let person = JWTVerifier.claim(settings.subjectClaim, of: idToken) as? String, (1...255).contains(person.utf8.count),
              !person.containsControlCharacters
        else { throw OIDCFailure.idToken(.missingSubject) }
        return Principal(kind: .user, id: person, workspaces: principal.workspaces)
    }
}

typealias ConsoleSignInOIDC = ConsoleSignIn.OIDCLogin
