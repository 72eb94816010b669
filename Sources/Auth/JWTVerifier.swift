import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// How JWTs are checked, per RFC 8725: an algorithm allowlist, the algorithm bound
/// to the key (no HS/RS confusion), `iss`, `aud`, `exp`, `nbf`, `iat` with a small
/// leeway, and a maximum lifetime.
public struct JWTSettings: Sendable {
    public var issuer: String
    public var audience: String
    public var leewaySeconds: Double = 30
    public var maxLifetimeSeconds: Double = 86400
    public var allowedAlgorithms: Set<String> = ["HS256", "RS256", "ES256", "EdDSA"]
    /// HS256 secret (at least 32 bytes); the key for tokens without a `kid`.
    public var hmacSecret: String?
    /// Optional `kid` under which the HS256 secret is also found.
    public var hmacKeyID: String?
    /// A JWKS document (RS256, ES256, EdDSA public keys with `kid`s).
    public var jwksFile: String?
    public var jwksURL: String?
    /// An unknown `kid` refreshes the JWKS from the URL at most this often.
    public var jwksRefreshInterval: Duration = .seconds(60)
    /// The claim holding workspace id → scope names (`ws`, or what the identity
    /// provider can put in its tokens, e.g. `https://gateapi.dev/ws`).
    public var workspacesClaim = "ws"

    public init(issuer: String, audience: String) {
        self.issuer = issuer
        self.audience = audience
    }

    public var isEnabled: Bool { hmacSecret != nil || jwksFile != nil || jwksURL != nil }

    /// What may be put in the allowlist; `none` never is.
    public static let supportedAlgorithms: Set<String> = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA",
    ]
}

/// Why a token was refused; recorded in the audit log, never shown in detail to the caller.
public enum JWTRejection: Error, Equatable, Sendable {
    case disabled, malformed, algorithmNotAllowed(String), unknownKey, badSignature
    case expired, notYetValid, issuedInFuture, wrongIssuer, wrongAudience, lifetimeTooLong, missingSubject, wrongNonce

    public var reason: String {
        switch self {
        case .disabled: return "jwt_disabled"
        case .malformed: return "jwt_malformed"
        case .algorithmNotAllowed: return "jwt_algorithm_not_allowed"
        case .unknownKey: return "jwt_unknown_key"
        case .badSignature: return "jwt_bad_signature"
        case .expired: return "jwt_expired"
        case .notYetValid: return "jwt_not_yet_valid"
        case .issuedInFuture: return "jwt_issued_in_future"
        case .wrongIssuer: return "jwt_wrong_issuer"
        case .wrongAudience: return "jwt_wrong_audience"
        case .lifetimeTooLong: return "jwt_lifetime_too_long"
        case .missingSubject: return "jwt_missing_subject"
        case .wrongNonce: return "jwt_wrong_nonce"
        }
    }
}

public final class JWTVerifier: Sendable {
    private struct KeySet: Sendable {
        var keys: JWTKeyCollection
        var kids: Set<String>
        var fetchedAt: ContinuousClock.Instant?
    }

    public let settings: JWTSettings
    private let state: NIOLockedValueBox<KeySet>
    private let logger: Logger

    /// Loads the HMAC secret and the JWKS file; the JWKS URL is fetched on first use.
    public init(settings: JWTSettings, logger: Logger) async throws {
        self.settings = settings
        self.logger = logger
        var jwks: JWKS?
        if let file = settings.jwksFile {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            jwks = try JSONDecoder().decode(JWKS.self, from: data)
        }
        self.state = NIOLockedValueBox(try await Self.makeKeySet(settings: settings, jwks: jwks, fetchedAt: nil))
    }

    /// Checks `token` and returns the principal it names.
    /// With `nonce`, the token must carry exactly that `nonce` claim (an OpenID Connect
    /// ID token answering the sign-in that sent it).
    public func verify(_ token: String, now: Date = Date(), nonce: String? = nil) async throws(JWTRejection) -> Principal {
        guard settings.isEnabled else { throw .disabled }
        let header = try Self.header(of: token)
        guard let alg = header.alg, settings.allowedAlgorithms.contains(alg) else {
            throw .algorithmNotAllowed(header.alg ?? "none")
        }
        // A token naming a key must name one we know; an unknown kid may mean the
        // identity provider rotated keys, so the JWKS is fetched again (rate-limited).
        if let kid = header.kid, !state.withLockedValue({ $0.kids.contains(kid) }) {
            await refreshIfAllowed()
        }
        let keySet = state.withLockedValue { $0 }
        if let kid = header.kid, !keySet.kids.contains(kid) { throw .unknownKey }
        // The key decides the algorithm: a token may not pick HS256 for an RSA key.
        let key: any JWTAlgorithm
        do {
            key = try await keySet.keys.getKey(for: header.kid.flatMap { JWKIdentifier(string: $0) }, alg: alg)
        } catch {
            throw .unknownKey
        }
        guard key.name == alg else { throw .algorithmNotAllowed(alg) }

        let claims: GateClaims
        do {
            claims = try await keySet.keys.verify(token, as: GateClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .badSignature
        } catch {
            throw .malformed
        }
        if let nonce, claims.nonce != nonce { throw .wrongNonce }
        let workspaces = settings.workspacesClaim == "ws" ? claims.ws : Self.workspacesClaim(settings.workspacesClaim, of: token)
        return try check(claims, workspaces: workspaces, now: now)
    }

    /// A workspaces claim under another name, read from the (already verified) payload.
    static func workspacesClaim(_ name: String, of token: String) -> [String: [String]]? {
        (claim(name, of: token) as? [String: Any])?.compactMapValues { $0 as? [String] }
    }

    /// A claim of a token's payload; call it only on a token `verify` accepted.
    public static func claim(_ name: String, of token: String) -> Any? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: String(parts[1])),
              let payload = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return payload[name]
    }

    private func check(_ claims: GateClaims, workspaces claimed: [String: [String]]?, now: Date) throws(JWTRejection) -> Principal {
        let leeway = settings.leewaySeconds
        guard claims.iss.value == settings.issuer else { throw .wrongIssuer }
        guard claims.aud.value.contains(settings.audience) else { throw .wrongAudience }
        guard now.timeIntervalSince(claims.exp.value) < leeway else { throw .expired }
        if let nbf = claims.nbf, nbf.value.timeIntervalSince(now) > leeway { throw .notYetValid }
        if let iat = claims.iat, iat.value.timeIntervalSince(now) > leeway { throw .issuedInFuture }
        let start = claims.iat?.value ?? now
        guard claims.exp.value.timeIntervalSince(start) <= settings.maxLifetimeSeconds + leeway else {
            throw .lifetimeTooLong
        }
        let subject = claims.sub.value
        guard !subject.isEmpty, subject.utf8.count <= 255 else { throw .missingSubject }
        var workspaces: [String: Set<Scope>] = [:]
        for (workspace, names) in claimed ?? [:] where WorkspaceID.isValid(workspace) {
            // Scopes this version does not know are ignored, not fatal: identity
            // providers may grant newer ones.
            workspaces[workspace] = Set(names.compactMap(Scope.init(rawValue:)))
        }
        return Principal(kind: .user, id: subject, workspaces: workspaces)
    }

    // MARK: Keys

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
        var crit: [String]?
    }

    private static func header(of token: String) throws(JWTRejection) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: String(parts[0])),
            let header = try? JSONDecoder().decode(Header.self, from: data)
        else { throw .malformed }
        // RFC 7515 §4.1.11: extensions we do not understand must be refused.
        guard header.crit == nil else { throw .malformed }
        return header
    }

    private func refreshIfAllowed() async {
        guard let url = settings.jwksURL else { return }
        // Checked and marked under one lock, so that a flood of unknown kids, however
        // concurrent, triggers one fetch per interval.
        let due = state.withLockedValue { keySet in
            if let fetchedAt = keySet.fetchedAt, ContinuousClock.now - fetchedAt < settings.jwksRefreshInterval {
                return false
            }
            keySet.fetchedAt = .now
            return true
        }
        guard due else { return }
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
            guard response.status == .ok else { throw JWKSFetchFailed(status: Int(response.status.code)) }
            let body = try await response.body.collect(upTo: 1 << 20)
            let jwks = try JSONDecoder().decode(JWKS.self, from: Data(body.readableBytesView))
            let keySet = try await Self.makeKeySet(settings: settings, jwks: jwks, fetchedAt: .now)
            state.withLockedValue { $0 = keySet }
            logger.info("JWKS refreshed", metadata: ["keys": "\(keySet.kids.count)"])
        } catch {
            logger.warning("JWKS refresh failed", metadata: ["error": "\(error)"])
        }
    }

    private static func makeKeySet(settings: JWTSettings, jwks: JWKS?, fetchedAt: ContinuousClock.Instant?)
        async throws -> KeySet
    {
        let keys = JWTKeyCollection()
        var kids = Set<String>()
        if let secret = settings.hmacSecret {
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            if let kid = settings.hmacKeyID {
                await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
                kids.insert(kid)
            }
        }
        if let jwks {
            try await keys.add(jwks: jwks)
            kids.formUnion(jwks.keys.compactMap { $0.keyIdentifier?.string })
        }
        return KeySet(keys: keys, kids: kids, fetchedAt: fetchedAt)
    }
}

struct JWKSFetchFailed: Error { let status: Int }

extension Data {
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        self.init(base64Encoded: base64)
    }
}
