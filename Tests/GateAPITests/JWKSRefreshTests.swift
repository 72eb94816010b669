import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOConcurrencyHelpers
import Testing

@testable import Auth
@testable import GateAPI

/// JWT_JWKS_URL against a real HTTP server standing in for the identity provider.
@Suite struct JWKSRefreshTests {
    final class Provider: Sendable {
        let documents = NIOLockedValueBox<[String]>([])
        let fetches = NIOLockedValueBox(0)
        let keys = JWTKeyCollection()

        func publish(_ kids: [String: ES256PrivateKey]) async {
            var jwks: [[String: String]] = []
            for (kid, key) in kids {
                await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
                let p = key.publicKey.parameters!
                jwks.append(["kty": "EC", "crv": "P-256", "alg": "ES256", "kid": kid, "x": p.x, "y": p.y])
            }
            let json = String(decoding: try! JSONSerialization.data(withJSONObject: ["keys": jwks]), as: UTF8.self)
            documents.withLockedValue { $0 = [json] }
        }

        var application: some ApplicationProtocol {
            let router = Router()
            router.get("/jwks") { _, _ -> Response in
                self.fetches.withLockedValue { $0 += 1 }
                let body = self.documents.withLockedValue { $0.first ?? #"{"keys":[]}"# }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test func unknownKidRefreshesTheJWKSAtMostOncePerInterval() async throws {
        let provider = Provider()
        let first = ES256PrivateKey()
        await provider.publish(["k1": first])
        try await provider.application.test(.live) { idp in
            let port = try #require(idp.port)
            try await AuthFixture.with(environment: [
                "JWT_JWKS_URL": "http://127.0.0.1:\(port)/jwks", "JWT_JWKS_FILE": "", "JWT_JWKS_REFRESH_SECONDS": "1",
            ], concurrent: true) { fixture, client in
                let path = "/v1/workspaces/acme/api-keys"
                let claims = TestIdentity.claims(ws: ["acme": ["keys:admin"]])
                let one = try await provider.keys.sign(claims, kid: "k1")
                #expect(try await client.execute(uri: path, method: .get, headers: bearer(one)).status == .ok)
                #expect(provider.fetches.withLockedValue { $0 } == 1)

                // The provider rotates in a second key; tokens signed with it work after one refresh.
                await provider.publish(["k1": first, "k2": ES256PrivateKey()])
                try await Task.sleep(for: .milliseconds(1100))
                let two = try await provider.keys.sign(claims, kid: "k2")
                #expect(try await client.execute(uri: path, method: .get, headers: bearer(two)).status == .ok)
                #expect(provider.fetches.withLockedValue { $0 } == 2)

                // A flood of unknown kids costs at most one fetch per interval.
                try await Task.sleep(for: .milliseconds(1100))
                await provider.keys.add(ecdsa: ES256PrivateKey(), kid: "unpublished")
                let stranger = try await provider.keys.sign(claims, kid: "unpublished")
                let floodStarted = ContinuousClock.now
                try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<20 {
                        group.addTask { try await client.execute(uri: path, method: .get, headers: bearer(stranger)).status }
                    }
                    for try await status in group { #expect(status == .unauthorized) }
                }
                // One fetch, plus one per whole interval the flood lasted (a loaded machine).
                let intervals = Int((ContinuousClock.now - floodStarted) / .seconds(1))
                let afterFlood = provider.fetches.withLockedValue { $0 }
                #expect((3...3 + intervals).contains(afterFlood), "\(afterFlood) fetches in \(intervals) whole intervals")
                // Known keys keep working without fetching.
                #expect(try await client.execute(uri: path, method: .get, headers: bearer(one)).status == .ok)
                #expect(provider.fetches.withLockedValue { $0 } == afterFlood)
            }
        }
    }
}

/// Tokens minted by PyJWT, as an agent's or an identity provider's Python tooling does.
@Suite struct PyJWTInteropTests {
    @Test func tokensFromPyJWTAreAccepted() async throws {
        try await AuthFixture.with { fixture, client in
            let directory = "\(TestEnvironment.serversDirectory)/pyjwt-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try fixture.identity.rsaPrivatePEM.write(toFile: "\(directory)/rsa.pem", atomically: true, encoding: .utf8)
            let script = """
                import jwt, time, sys
                now = int(time.time())
                claims = {"sub": "py-user", "iss": "\(TestIdentity.issuer)", "aud": ["\(TestIdentity.audience)", "other"],
                          "iat": now, "nbf": now, "exp": now + 300, "jti": "abc", "ws": {"acme": ["keys:admin"]}}
                print(jwt.encode(claims, "\(TestIdentity.secret)", algorithm="HS256"))
                print(jwt.encode(claims, open(sys.argv[1]).read(), algorithm="RS256", headers={"kid": "rsa1"}))
                """
            try script.write(toFile: "\(directory)/mint.py", atomically: true, encoding: .utf8)
            let process = try ChildProcess(
                ["/usr/bin/python3", "\(directory)/mint.py", "\(directory)/rsa.pem"],
                stdoutPath: "\(directory)/out", stderrPath: "\(directory)/err")
            #expect(await process.wait() == 0, "\((try? String(contentsOfFile: "\(directory)/err", encoding: .utf8)) ?? "")")
            let tokens = try String(contentsOfFile: "\(directory)/out", encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(tokens.count == 2)
            for token in tokens {
                let response = try await client.execute(uri: "/v1/workspaces/acme/api-keys", method: .get, headers: bearer(token))
                #expect(response.status == .ok)
            }
        }
    }
}
