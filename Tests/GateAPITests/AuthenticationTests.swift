import Crypto
import Foundation
import Gate
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

func bearer(_ credential: String) -> HTTPFields { [.authorization: "Bearer \(credential)"] }

@Suite struct APIKeyFormatTests {
    @Test func generatedKeysParseBackAndHashStably() throws {
        let token = APIKeyToken.generate()
        let value = token.value
        #expect(value.hasPrefix("gk_"))
        #expect(value.count == 67)
        let parsed = try #require(APIKeyToken(parsing: value))
        #expect(parsed == token)
        #expect(parsed.hash == token.hash)
        #expect(token.hash.count == 32)
    }

    @Test func aSingleChangedCharacterFailsTheChecksum() {
        let value = Array(APIKeyToken.generate().value)
        var changed = value
        let index = 30
        changed[index] = changed[index] == "a" ? "b" : "a"
        #expect(APIKeyToken(parsing: String(changed)) == nil)
        #expect(APIKeyToken(parsing: String(value.dropLast())) == nil)
        #expect(APIKeyToken(parsing: "gk_" + String(repeating: "a", count: 64)) == nil)
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 3]))
    }

    @Test func workspaceIDPattern() {
        for good in ["acme", "a1", "my-team-2", String(repeating: "a", count: 63)] { #expect(WorkspaceID.isValid(good)) }
        for bad in ["a", "-acme", "Acme", "ac_me", "ac me", String(repeating: "a", count: 64), ""] {
            #expect(!WorkspaceID.isValid(bad))
        }
    }
}

@Suite struct JWTAuthenticationTests {
    let path = "/v1/workspaces/acme/api-keys"
    let admin = ["acme": ["keys:admin"]]

    @Test func everySupportedAlgorithmIsAccepted() async throws {
        try await AuthFixture.with { fixture, client in
            for kid in [nil, "rsa1", "ec1", "ed1"] {
                let token = try await fixture.identity.token(TestIdentity.claims(ws: admin), kid: kid)
                let response = try await client.execute(uri: path, method: .get, headers: bearer(token))
                #expect(response.status == .ok, "kid \(kid ?? "none (HS256)")")
            }
        }
    }

    @Test func tokensWithinTheLeewayAreAccepted() async throws {
        try await AuthFixture.with { fixture, client in
            var claims = TestIdentity.claims(ws: admin)
            claims.exp = Int(Date().timeIntervalSince1970) - 10
            claims.iat = claims.exp! - 600
            claims.nbf = claims.iat
            let token = try await fixture.identity.token(claims)
            #expect(try await client.execute(uri: path, method: .get, headers: bearer(token)).status == .ok)
        }
    }

    @Test func everyAttackIs401AndAudited() async throws {
        try await AuthFixture.with { fixture, client in
            let identity = fixture.identity
            let now = Int(Date().timeIntervalSince1970)
            let good = TestIdentity.claims(ws: admin)
            func variant(_ change: (inout TestIdentity.Claims) -> Void) -> TestIdentity.Claims {
                var claims = good
                change(&claims)
                return claims
            }
            let valid = try await identity.token(good)
            let parts = valid.split(separator: ".").map(String.init)
            let forgedBody = try JSONEncoder().encode(variant { $0.sub = "mallory" }).base64URL

            let attacks: [(String, String)] = [
                ("alg none", try TestIdentity.handMade(header: ["alg": "none", "typ": "JWT"], claims: good) { _ in Data() }),
                ("HS256 with the RSA public key as secret",
                 try TestIdentity.handMade(header: ["alg": "HS256", "kid": "rsa1"], claims: good) { input in
                     Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Data(identity.rsaPublicPEM.utf8))))
                 }),
                ("expired", try await identity.token(variant { $0.exp = now - 120; $0.iat = now - 700; $0.nbf = now - 700 })),
                ("not yet valid", try await identity.token(variant { $0.nbf = now + 120 })),
                ("wrong issuer", try await identity.token(variant { $0.iss = "https://evil.test" })),
                ("wrong audience", try await identity.token(variant { $0.aud = "someone-else" })),
                ("tampered payload", "\(parts[0]).\(forgedBody).\(parts[2])"),
                ("unknown kid", try await identity.token(good, kid: "stranger")),
                ("missing sub", try await identity.token(variant { $0.sub = nil })),
                ("missing exp", try await identity.token(variant { $0.exp = nil })),
                ("lifetime too long", try await identity.token(variant { $0.exp = now + 3 * 86400 })),
                ("garbage", "not.a.jwt"),
            ]
            for (name, token) in attacks {
                let response = try await client.execute(uri: path, method: .get, headers: bearer(token))
                #expect(response.status == .unauthorized, "\(name)")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer realm=\"gateapi\"") == true, "\(name)")
                #expect(response.headers[.contentType] == "application/problem+json", "\(name)")
            }
            let denied = try await fixture.auditRows(action: "auth.denied")
            #expect(denied.count == attacks.count)
            #expect(denied.allSatisfy { $0.1 == "denied" })
            let reasons = Set(denied.compactMap(\.2))
            for reason in ["jwt_algorithm_not_allowed", "jwt_expired", "jwt_not_yet_valid", "jwt_wrong_issuer",
                           "jwt_wrong_audience", "jwt_bad_signature", "jwt_unknown_key", "jwt_lifetime_too_long"] {
                #expect(reasons.contains(reason), "\(reason) in \(reasons)")
            }
        }
    }

    @Test func membershipComesFromTheWsClaim() async throws {
        try await AuthFixture.with { fixture, client in
            let token = try await fixture.identity.token(TestIdentity.claims(ws: ["acme": ["approvals:read"]]))
            // Member without the scope: 403.
            let forbidden = try await client.execute(uri: path, method: .get, headers: bearer(token))
            #expect(forbidden.status == .forbidden)
            #expect(forbidden.json["detail"] as? String == "this requires the scope keys:admin")
            // Not a member: 404, the same as a workspace that does not exist.
            let other = try await client.execute(uri: "/v1/workspaces/other/api-keys", method: .get, headers: bearer(token))
            let missing = try await client.execute(uri: "/v1/workspaces/nowhere/api-keys", method: .get, headers: bearer(token))
            #expect(other.status == .notFound && missing.status == .notFound)
            #expect(other.json["detail"] as? String == missing.json["detail"] as? String)
            let denials = try await fixture.auditRows(action: "authz.denied")
            #expect(denials.map(\.2) == ["missing_scope:keys:admin", "not_a_member", "not_a_member"])
            #expect(denials.allSatisfy { $0.0 == "alice" })
        }
    }

    @Test func missingCredentialsAre401WithAChallenge() async throws {
        try await AuthFixture.with { _, client in
            let response = try await client.execute(uri: path, method: .get)
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"gateapi\"")
            let basic = try await client.execute(uri: path, method: .get, headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(basic.status == .unauthorized)
        }
    }
}
