import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI

/// Console sign-in through an OpenID Connect provider (a real local stand-in):
/// authorization code with PKCE, state bound to the browser, nonce, ID token checks.
@Suite struct ConsoleOIDCTests {
    /// Starts a sign-in: the provider's authorization URL and the state cookie.
    func start(_ client: any TestClientProtocol) async throws -> (url: String, cookie: String) {
        let start = try await client.execute(uri: "/console/oidc/start", method: .get)
        #expect(start.status == .seeOther)
        let url = try #require(start.headers[.location])
        let cookie = try #require(start.headers[.setCookie])
        #expect(cookie.hasPrefix("gateapi_oidc_") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
        return (url, String(cookie.prefix { $0 != ";" }))
    }

    /// The callback path (and query) the provider sends the browser back to.
    func callbackPath(_ location: String) throws -> String {
        let range = try #require(location.range(of: "/console/callback"))
        return String(location[range.lowerBound...])
    }

    @Test func aPersonSignsInWithTheirProvidersWorkspacesAndScopes() async throws {
        try await FakeIdentityProvider.with { idp, environment in
            try await AuthFixture.with(environment: environment) { fixture, client in
                let page = String(buffer: try await client.execute(uri: "/console/signin", method: .get).body)
                #expect(page.contains(#"href="/console/oidc/start""#))
                let (url, stateCookie) = try await start(client)
                #expect(url.hasPrefix("\(idp.issuer)/authorize?response_type=code&client_id=gateapi-console&redirect_uri="))
                #expect(url.contains("code_challenge_method=S256") && url.contains("scope=openid%20profile%20email"))
                let back = try callbackPath(try await idp.authorize(url))
                let signedIn = try await client.execute(uri: back, method: .get, headers: [.cookie: stateCookie])
                #expect(signedIn.status == .seeOther, "\(String(buffer: signedIn.body))")
                #expect(signedIn.headers[.location] == "/console/w/acme/approvals")
                let session = try #require(AuthFixture.sessionCookie(signedIn))
                let queue = try await client.execute(uri: "/console/w/acme/approvals", method: .get, headers: [.cookie: "gateapi_console=\(session)"])
                #expect(queue.status == .ok && String(buffer: queue.body).contains("rita@acme.example"))
                #expect(try await fixture.count("SELECT count(*) FROM console_sessions WHERE signed_in_with = 'oidc' AND subject = 'rita@acme.example'") == 1)
                #expect(try await fixture.count("SELECT count(*) FROM audit_events WHERE action = 'console.signed_in' AND actor_id = 'rita@acme.example' AND details->>'with' = 'oidc'") == 1)
                // The callback is good once.
                #expect(try await client.execute(uri: back, method: .get, headers: [.cookie: stateCookie]).status == .badRequest)
                #expect(try await fixture.count("SELECT count(*) FROM console_oidc_logins") == 0)
            }
        }
    }

    @Test func aCallbackWithoutTheBrowsersStateSignsNobodyIn() async throws {
        try await FakeIdentityProvider.with { idp, environment in
            try await AuthFixture.with(environment: environment) { fixture, client in
                let (url, _) = try await start(client)
                let back = try callbackPath(try await idp.authorize(url))
                // Carried into another browser (no state cookie, or another sign-in's).
                #expect(try await client.execute(uri: back, method: .get).status == .badRequest)
                let (_, otherCookie) = try await start(client)
                let answer = try await client.execute(uri: back, method: .get, headers: [.cookie: otherCookie])
                #expect(answer.status == .badRequest && answer.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(idp.tokenRequests.withLockedValue { $0 } == 0, "the code was never exchanged")
                #expect(try await fixture.count("SELECT count(*) FROM console_sessions") == 0)
            }
        }
    }

    @Test func anIDTokenThatFailsAnyCheckIsRefused() async throws {
        try await FakeIdentityProvider.with { idp, environment in
            try await AuthFixture.with(environment: environment) { fixture, client in
                for tamper in [FakeIdentityProvider.Tamper.nonce, .audience, .signature] {
                    idp.tamper.withLockedValue { $0 = tamper }
                    let (url, cookie) = try await start(client)
                    let answer = try await client.execute(uri: try callbackPath(try await idp.authorize(url)), method: .get, headers: [.cookie: cookie])
                    #expect(answer.status == .forbidden, "\(tamper)")
                    #expect(String(buffer: answer.body).contains("could not be verified"), "\(tamper)")
                }
                // Verified, but no workspace of this server.
                idp.person.withLockedValue { $0.workspaces = [:] }
                let (url, cookie) = try await start(client)
                let none = try await client.execute(uri: try callbackPath(try await idp.authorize(url)), method: .get, headers: [.cookie: cookie])
                #expect(none.status == .forbidden && String(buffer: none.body).contains("grants you no GateAPI workspace"))
                #expect(try await fixture.count("SELECT count(*) FROM console_sessions") == 0)
            }
        }
    }

    @Test func withoutAProviderThereIsNoProviderSignIn() async throws {
        try await AuthFixture.with { _, client in
            let page = try await client.execute(uri: "/console/signin", method: .get)
            #expect(!String(buffer: page.body).contains("/console/oidc/start"))
            let start = try await client.execute(uri: "/console/oidc/start", method: .get)
            #expect(start.status == .notFound)
        }
    }

    @Test func twoSignInsInTwoTabsBothWorkAndThePersonCanBeAnotherClaim() async throws {
        try await FakeIdentityProvider.with { idp, environment in
            var environment = environment
            environment["OIDC_SUBJECT_CLAIM"] = "email"
            try await AuthFixture.with(environment: environment) { fixture, client in
                // The provider's sub is opaque; the person GateAPI knows is the e-mail address.
                idp.person.withLockedValue { $0 = .init(subject: "00u1a2b3c", workspaces: ["acme": ["approvals:read"]], email: "rita@acme.example") }
                let first = try await start(client), second = try await start(client)
                #expect(first.cookie != second.cookie)
                let back = try callbackPath(try await idp.authorize(first.url))
                let signedIn = try await client.execute(uri: back, method: .get, headers: [.cookie: "\(first.cookie); \(second.cookie)"])
                #expect(signedIn.status == .seeOther, "\(String(buffer: signedIn.body))")
                #expect(try await fixture.count("SELECT count(*) FROM console_sessions WHERE subject = 'rita@acme.example'") == 1)
                // No such claim: nobody is signed in.
                idp.person.withLockedValue { $0.email = nil }
                let third = try await start(client)
                let refused = try await client.execute(
                    uri: try callbackPath(try await idp.authorize(third.url)), method: .get, headers: [.cookie: third.cookie])
                #expect(refused.status == .forbidden)
            }
        }
    }
}
