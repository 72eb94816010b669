import Crypto
import Foundation
import Testing

@testable import Actions

@Suite struct SecretBoxTests {
    static let key = Data(repeating: 7, count: 32).base64EncodedString()
    static let otherKey = Data(repeating: 9, count: 32).base64EncodedString()

    @Test func roundTripIsVersionedAndFreshEachTime() throws {
        let box = try SecretBox(base64Key: Self.key)
        let sealed = try box.seal("hello secret", workspaceID: "acme")
        #expect(sealed.hasPrefix("v1."))
        #expect(!sealed.contains("hello"))
        #expect(try box.openString(sealed, workspaceID: "acme") == "hello secret")
        #expect(try box.seal("hello secret", workspaceID: "acme") != sealed)  // random nonce
    }

    @Test func wrongKeyWrongWorkspaceAndTamperingFail() throws {
        let box = try SecretBox(base64Key: Self.key)
        let sealed = try box.seal("hello secret", workspaceID: "acme")
        #expect(throws: SecretBoxError.decryptionFailed) { try SecretBox(base64Key: Self.otherKey).open(sealed, workspaceID: "acme") }
        #expect(throws: SecretBoxError.decryptionFailed) { try box.open(sealed, workspaceID: "globex") }

        var bytes = Data(base64Encoded: String(sealed.dropFirst(3)))!
        for index in [0, 12, bytes.count - 1] {  // nonce, ciphertext, tag
            var tampered = bytes
            tampered[index] ^= 0x01
            #expect(throws: SecretBoxError.decryptionFailed) {
                try box.open("v1." + tampered.base64EncodedString(), workspaceID: "acme")
            }
        }
        bytes.removeLast()
        #expect(throws: SecretBoxError.decryptionFailed) { try box.open("v1." + bytes.base64EncodedString(), workspaceID: "acme") }
        #expect(throws: SecretBoxError.unsupportedVersion("v2")) { try box.open("v2." + sealed.dropFirst(3), workspaceID: "acme") }
        #expect(throws: SecretBoxError.malformed) { try box.open("v1.not-base64!", workspaceID: "acme") }
        #expect(throws: SecretBoxError.malformed) { try box.open("garbage", workspaceID: "acme") }
    }

    @Test func badSecretsKeyIsAClearError() throws {
        #expect(throws: SecretBoxError.missingKey) { try SecretBox.fromEnvironment([:]) }
        #expect(throws: SecretBoxError.missingKey) { try SecretBox.fromEnvironment(["SECRETS_KEY": ""]) }
        do {
            _ = try SecretBox.fromEnvironment(["SECRETS_KEY": Data(repeating: 1, count: 16).base64EncodedString()])
            Issue.record("a 16-byte key was accepted")
        } catch {
            #expect(error.description.contains("16 bytes, not 32"))
            #expect(error.description.contains("SECRETS_KEY"))
        }
        #expect(throws: SecretBoxError.self) { try SecretBox.fromEnvironment(["SECRETS_KEY": "not base64 at all!"]) }
        #expect(throws: SecretBoxError.self) {
            try SecretBox.fromEnvironment(["SECRETS_KEY": Self.key, "SECRETS_KEY_PREVIOUS": "short"])
        }
        #expect(throws: SecretBoxError.self) { try SecretBox(key: SymmetricKey(size: .bits128)) }
    }

    @Test func previousKeysStillOpenDuringRotation() throws {
        let old = try SecretBox(base64Key: Self.otherKey)
        let sealed = try old.seal("rotating", workspaceID: "acme")
        let rotated = try SecretBox.fromEnvironment(["SECRETS_KEY": Self.key, "SECRETS_KEY_PREVIOUS": Self.otherKey])
        #expect(try rotated.openString(sealed, workspaceID: "acme") == "rotating")
        let resealed = try rotated.seal("rotating", workspaceID: "acme")
        #expect(throws: SecretBoxError.decryptionFailed) { try old.open(resealed, workspaceID: "acme") }
    }
}

@Suite struct GoogleCredentialsTests {
    let refresh = GoogleCredentials.refreshToken(
        refreshToken: "1//secret-refresh", clientID: "client.apps.googleusercontent.com", clientSecret: "GOCSPX-secret")

    @Test func sealedJSONRoundTripsPerWorkspace() throws {
        let box = try SecretBox(base64Key: SecretBoxTests.key)
        for credentials in [refresh, .accessToken("ya29.secret-access")] {
            let sealed = try credentials.sealed(with: box, workspaceID: "acme")
            #expect(try GoogleCredentials.open(sealed, with: box, workspaceID: "acme") == credentials)
            #expect(throws: SecretBoxError.decryptionFailed) { try GoogleCredentials.open(sealed, with: box, workspaceID: "other") }
        }
        let json = String(decoding: try JSONEncoder.sortedKeys.encode(refresh), as: UTF8.self)
        #expect(json == #"{"client_id":"client.apps.googleusercontent.com","client_secret":"GOCSPX-secret","refresh_token":"1//secret-refresh","type":"refresh_token"}"#)
    }

    @Test func descriptionsNeverShowSecrets() {
        for credentials in [refresh, .accessToken("ya29.secret-access")] {
            var dumped = ""
            dump(credentials, to: &dumped)
            for text in ["\(credentials)", String(reflecting: credentials), dumped, "\([credentials])"] {
                for secret in ["1//secret-refresh", "GOCSPX-secret", "ya29.secret-access"] {
                    #expect(!text.contains(secret), "\(text)")
                }
                #expect(text.contains("redacted"))
            }
        }
    }

    @Test func validationNamesTheFieldNotTheValue() throws {
        let cases: [(String, String)] = [
            (#"{"type":"access_token","access_token":""}"#, "access_token must not be empty"),
            (#"{"type":"access_token","access_token":"has space"}"#, "access_token must be visible ASCII"),
            (#"{"type":"refresh_token","refresh_token":"r","client_id":"c","client_secret":"\#(String(repeating: "s", count: 1025))"}"#,
             "client_secret must be at most 1024 bytes"),
            (#"{"type":"password","password":"x"}"#, "type must be"),
        ]
        for (json, message) in cases {
            do {
                _ = try JSONDecoder().decode(GoogleCredentials.self, from: Data(json.utf8))
                Issue.record("accepted \(json)")
            } catch let error as GoogleCredentialsError {
                #expect(error.description.contains(message), "\(error)")
            }
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(GoogleCredentials.self, from: Data(#"{"type":"refresh_token","refresh_token":"r"}"#.utf8))
        }
    }

    @Test func fingerprintIsAHashPerWorkspace() {
        let a = refresh.fingerprint(workspaceID: "acme")
        #expect(a.count == 64 && !a.contains("secret"))
        #expect(a == refresh.fingerprint(workspaceID: "acme"))
        #expect(a != refresh.fingerprint(workspaceID: "globex"))
        #expect(a != GoogleCredentials.accessToken("1//secret-refresh").fingerprint(workspaceID: "acme"))
    }
}
