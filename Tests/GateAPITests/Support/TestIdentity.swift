import Crypto
import Foundation
import Gate
import JWTKit
import _CryptoExtras

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// An identity provider for tests: an HS256 secret and RS256, ES256 and EdDSA keys,
/// with the public ones in a JWKS file, and a way to sign any claims at all.
struct TestIdentity: Sendable {
    static let issuer = "https://idp.test"
    static let audience = "gateapi-test"
    static let secret = "test-secret-that-is-long-enough-for-hs256-0123456789"

    let keys: JWTKeyCollection
    let rsaPublicPEM: String
    let rsaPrivatePEM: String
    let jwksPath: String

    static func make() async throws -> TestIdentity {
        let rsa = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let ec = ES256PrivateKey()
        let ed = try EdDSA.PrivateKey(curve: .ed25519)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        await keys.add(rsa: rsa, digestAlgorithm: .sha256, kid: "rsa1")
        await keys.add(ecdsa: ec, kid: "ec1")
        await keys.add(eddsa: ed, kid: "ed1")
        // A key the server does not know, for the unknown-kid case.
        await keys.add(ecdsa: ES256PrivateKey(), kid: "stranger")

        let (modulus, exponent) = try rsa.publicKey.getKeyPrimitives()
        let ecParameters = ec.publicKey.parameters!
        let jwks: [String: Any] = [
            "keys": [
                ["kty": "RSA", "kid": "rsa1", "alg": "RS256", "use": "sig",
                 "n": modulus.base64URL, "e": exponent.base64URL],
                ["kty": "EC", "kid": "ec1", "alg": "ES256", "crv": "P-256", "x": ecParameters.x, "y": ecParameters.y],
                ["kty": "OKP", "kid": "ed1", "alg": "EdDSA", "crv": "Ed25519", "x": ed.publicKey.rawRepresentation.base64URL],
            ]
        ]
        let path = "\(TestEnvironment.serversDirectory)/jwks-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: jwks).write(to: URL(fileURLWithPath: path))
        return TestIdentity(
            keys: keys, rsaPublicPEM: rsa.publicKey.pemRepresentation, rsaPrivatePEM: rsa.pemRepresentation, jwksPath: path)
    }

    /// The environment that makes GateAPI trust this provider.
    var environment: [String: String] {
        ["JWT_SECRET": Self.secret, "JWT_JWKS_FILE": jwksPath, "JWT_ISSUER": Self.issuer, "JWT_AUDIENCE": Self.audience]
    }

    /// Claims with every field optional, so tests can leave any out.
    struct Claims: JWTPayload {
        var sub: String?
        var exp: Int?
        var iss: String?
        var aud: String?
        var nbf: Int?
        var iat: Int?
        var ws: [String: [String]]?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func claims(sub: String = "alice", ws: [String: [String]], lifetime: Int = 600) -> Claims {
        let now = Int(Date().timeIntervalSince1970)
        return Claims(sub: sub, exp: now + lifetime, iss: issuer, aud: audience, nbf: now, iat: now, ws: ws)
    }

    /// Signs with the key named `kid` (nil: the HS256 secret).
    func token(_ claims: Claims, kid: String? = nil) async throws -> String {
        try await keys.sign(claims, kid: kid.map { JWKIdentifier(string: $0) })
    }

    /// A token whose header and signature are made by hand (alg none, HS/RS confusion).
    static func handMade(header: [String: String], claims: Claims, sign: (Data) -> Data) throws -> String {
        let head = try JSONSerialization.data(withJSONObject: header).base64URL
        let body = try JSONEncoder().encode(claims).base64URL
        let signature = sign(Data("\(head).\(body)".utf8)).base64URL
        return "\(head).\(body).\(signature)"
    }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// A migrated database with workspaces `acme` and `other`, and an admin
/// key in `acme` holding every scope a key may hold.
struct AuthFixture: Sendable {
    let db: TestDatabase
    let adminKey: String
    let identity: TestIdentity

    static func with(
        environment overrides: [String: String] = [:],
        concurrent: Bool = false,
        _ body: @escaping @Sendable (AuthFixture, any TestClientProtocol) async throws -> Void
    ) async throws {
        let identity = try await TestIdentity.make()
        try await TestDatabase.withFresh { db in
            let adminKey = try await seed(db)
            let fixture = AuthFixture(db: db, adminKey: adminKey, identity: identity)
            var environment = identity.environment
            environment["RATE_LIMIT_PER_MINUTE"] = "100000"
            environment.merge(overrides) { $1 }
            try await withTestApp(databaseURL: db.url, environment: environment, concurrent: concurrent) { client in
                try await body(fixture, client)
            }
        }
    }

    /// Workspaces `acme` and `other`, and an all-scopes key of `acme` (returned).
    static func seed(_ db: TestDatabase) async throws -> String {
        try await db.withClient { client in
            let workspaces = WorkspaceStore(client: client, logger: TestEnvironment.logger)
            let actor = AuditActor(kind: .system, id: "test")
            for id in ["acme", "other"] {
                _ = try await workspaces.create(id: id, name: id, defaults: [], actor: actor)
            }
            let (_, token) = try await APIKeyStore(client: client, logger: TestEnvironment.logger).create(
                workspaceID: "acme", name: "admin", scopes: Scope.grantableToKeys, expiresAt: nil,
                createdBy: "test", actsFor: "admin-person", actor: actor)
            return token.value
        }
    }

    /// Audit rows of one action, oldest first, as (actor_id, outcome, reason).
    func auditRows(action: String) async throws -> [(String?, String, String?)] {
        try await db.withClient { client in
            let rows = try await client.query(
                "SELECT actor_id, outcome, details->>'reason' FROM audit_events WHERE action = \(action) ORDER BY seq")
            var result: [(String?, String, String?)] = []
            for try await row in rows.decode((String?, String, String?).self) { result.append(row) }
            return result
        }
    }
}

import HummingbirdTesting
