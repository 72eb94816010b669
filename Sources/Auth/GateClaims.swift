import Foundation
import JWTKit

/// The JWT claims GateAPI reads (SPEC §2). Time and identity claims are checked by
/// `JWTVerifier` (with leeway), not here, so that every failure has one clear reason.
struct GateClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iss: IssuerClaim
    var aud: AudienceClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var jti: IDClaim?
    /// Workspace id → scope names.
    var ws: [String: [String]]?
    /// OpenID Connect ID tokens: the value the sign-in sent (replay protection).
    var nonce: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// What `gate-api token mint` signs: the same claims, all set.
public struct MintedClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iss: IssuerClaim
    var aud: AudienceClaim
    var iat: IssuedAtClaim
    var nbf: NotBeforeClaim
    var jti: IDClaim
    var ws: [String: [String]]

    public init(subject: String, issuer: String, audience: String, workspaces: [String: [String]],
                lifetime: TimeInterval, now: Date = Date()) {
        // Whole seconds: NumericDate may be fractional, but not every library reads that.
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        sub = .init(value: subject)
        iss = .init(value: issuer)
        aud = .init(value: [audience])
        iat = .init(value: now)
        nbf = .init(value: now)
        exp = .init(value: now.addingTimeInterval(lifetime))
        jti = .init(value: UUID().uuidString.lowercased())
        ws = workspaces
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
