import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import GateAPI
@testable import Persistence

/// Console sign-in: single-use links, the session cookie, idle and absolute limits,
/// sign-out — against the real server and Postgres.
@Suite struct ConsoleSignInTests {
    @Test func aLinkSignsInOnceWithAHardenedCookie() async throws {
        try await AuthFixture.with { fixture, client in
            let link = try await fixture.consoleLink(sub: "rita", scopes: ["acme": ["approvals:read"]])
            // Looking at the page (a mail scanner's fetch) does not spend the link.
            let page = try await client.execute(uri: "/console/signin?link=\(link)", method: .get)
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains(#"name="link" value="\#(link)""#))
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(page.headers[.setCookie] == nil)

            let first = try await fixture.redeem(client, link: link)
            #expect(first.status == .seeOther)
            #expect(first.headers[.location] == "/console/w/acme/approvals")
            let cookie = try #require(first.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console", "Max-Age=43200"] {
                #expect(cookie.contains(attribute), "\(attribute) in \(cookie)")
            }
            let second = try await fixture.redeem(client, link: link)
            #expect(second.status == .seeOther && second.headers[.location] == "/console/signin?refused=used")
            #expect(second.headers[.setCookie] == nil)
            #expect(try await fixture.redeem(client, link: "gsl_" + String(repeating: "a", count: 32)).headers[.location]
                == "/console/signin?refused=unknown")

            // Only a hash of each secret is stored.
            #expect(try await fixture.count("SELECT count(*) FROM console_sessions") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM console_sign_in_links WHERE used_at IS NOT NULL") == 1)
            let signedIn = try await fixture.auditRows(action: "console.signed_in")
            #expect(signedIn.count == 1 && signedIn.first?.0 == "rita" && signedIn.first?.1 == "success")
            let refused = try await fixture.auditRows(action: "console.sign_in_refused")
            #expect(refused.count == 1 && refused.first?.1 == "denied" && refused.first?.2 == "link_used")
        }
    }

    @Test func pagesAreNeverCachedButTheStyleSheetAndScriptAreForAFewMinutes() async throws {
        try await AuthFixture.with { fixture, client in
            let page = try await client.execute(uri: "/console/signin", method: .get)
            #expect(page.headers[.cacheControl] == "no-store")
            for asset in ["/console/assets/console.css", "/console/assets/console.js"] {
                let response = try await client.execute(uri: asset, method: .get)
                #expect(response.status == .ok && response.headers[.cacheControl] == "public, max-age=300", "\(asset)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    @Test func guessingLinksRunsOutOfTheAddresssBudget() async throws {
        try await AuthFixture.with(environment: ["AUTH_FAILURES_BURST": "3", "AUTH_FAILURES_PER_MINUTE": "1"]) { fixture, client in
            let good = try await fixture.consoleLink(sub: "rita", scopes: ["acme": ["approvals:read"]])
            for _ in 0..<3 {
                let guess = try await fixture.redeem(client, link: "gsl_" + String(repeating: "b", count: 32))
                #expect(guess.headers[.location]?.hasPrefix("/console/signin?refused=") == true)
            }
            // Out of tokens: refused before the link is looked up, even a good one, as a page.
            let blocked = try await fixture.redeem(client, link: good)
            #expect(blocked.status == .tooManyRequests && blocked.headers[.retryAfter] != nil)
            #expect(blocked.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(try await fixture.count("SELECT count(*) FROM console_sign_in_links WHERE used_at IS NOT NULL") == 0)
        }
    }

    @Test func theCookieIsSecureExceptOnLoopback() {
        func cookie(_ authority: String) -> String {
            let request = Request(
                head: HTTPRequest(method: .post, scheme: "http", authority: authority, path: "/console/signin"),
                body: .init(buffer: ByteBuffer()))
            return ConsoleCookie.set("gss_x", maxAge: .seconds(60), request: request)
        }
        for public_ in ["gate.example.com", "gate.example.com:443", "10.0.0.5:8080", "localhost.evil.example"] {
            #expect(cookie(public_).hasSuffix("; Secure"), "\(public_)")
        }
        for loopback in ["127.0.0.1:8080", "localhost:8080", "localhost", "[::1]:8080"] {
            #expect(!cookie(loopback).contains("Secure"), "\(loopback)")
        }
    }

    @Test func anExpiredLinkIsRefusedAndASignInFromAnotherSiteToo() async throws {
        try await AuthFixture.with { fixture, client in
            let link = try await fixture.consoleLink(sub: "rita", scopes: ["acme": ["approvals:read"]])
            try await fixture.execute("UPDATE console_sign_in_links SET expires_at = now() - interval '1 second'")
            #expect(try await fixture.redeem(client, link: link).headers[.location] == "/console/signin?refused=expired")
            let fresh = try await fixture.consoleLink(sub: "rita", scopes: ["acme": ["approvals:read"]])
            let crossSite = try await fixture.redeem(client, link: fresh, headers: [.origin: "https://evil.example"])
            #expect(crossSite.status == .forbidden)
            #expect(crossSite.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(try await fixture.count("SELECT count(*) FROM console_sessions") == 0)
            // The link was not spent by the refused attempt.
            #expect(try await fixture.redeem(client, link: fresh).headers[.location] == "/console/w/acme/approvals")
        }
    }

    @Test func pagesNeedALiveSessionAndIdleOnesEnd() async throws {
        try await AuthFixture.with(environment: ["CONSOLE_SESSION_IDLE_MINUTES": "5"]) { fixture, client in
            let anonymous = try await client.execute(uri: "/console/w/acme/approvals", method: .get)
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/console/signin")
            let forged = try await client.execute(
                uri: "/console/w/acme/approvals", method: .get, headers: [.cookie: "gateapi_console=gss_" + String(repeating: "a", count: 32)])
            #expect(forged.headers[.location] == "/console/signin?expired=true")
            #expect(forged.headers[.setCookie]?.contains("Max-Age=0") == true)

            let browser = try await fixture.consoleBrowser(client)
            #expect(try await browser.get(client, "/console/w/acme/approvals").status == .ok)
            try await fixture.execute("UPDATE console_sessions SET last_seen_at = now() - interval '6 minutes'")
            #expect(try await browser.get(client, "/console/w/acme/approvals").headers[.location] == "/console/signin?expired=true")
        }
    }

    @Test func aSessionEndsAtItsAbsoluteLimitHoweverActive() async throws {
        try await AuthFixture.with { fixture, client in
            let browser = try await fixture.consoleBrowser(client)
            try await fixture.execute("UPDATE console_sessions SET expires_at = now() - interval '1 second', last_seen_at = now()")
            #expect(try await browser.get(client, "/console").headers[.location] == "/console/signin?expired=true")
        }
    }

    @Test func signingOutEndsTheSessionAndNeedsTheToken() async throws {
        try await AuthFixture.with { fixture, client in
            let browser = try await fixture.consoleBrowser(client)
            #expect(try await browser.post(client, "/console/signout", [], csrf: .some("wrong")).status == .forbidden)
            let out = try await browser.post(client, "/console/signout", [])
            #expect(out.status == .seeOther && out.headers[.location] == "/console/signin?signed_out=1")
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await browser.get(client, "/console").headers[.location] == "/console/signin?expired=true")
            #expect(try await fixture.auditRows(action: "console.signed_out").count == 1)
        }
    }

    @Test func endedSignInsArePurgedAndLiveOnesKept() async throws {
        try await AuthFixture.with { fixture, client in
            let live = try await fixture.consoleBrowser(client)
            _ = try await fixture.consoleLink(sub: "sam", scopes: ["acme": ["approvals:read"]])
            _ = try await fixture.consoleBrowser(client, sub: "old")
            try await fixture.execute("UPDATE console_sign_in_links SET expires_at = now() - interval '1 second' WHERE subject = 'sam'")
            try await fixture.execute("UPDATE console_sessions SET ended_at = now() - interval '2 days' WHERE subject = 'old'")
            let purged = try await fixture.db.withClient { client in
                try await ConsoleSessionStore(client: client, logger: TestEnvironment.logger).purgeEnded(batch: 100)
            }
            #expect(purged == 2)
            #expect(try await fixture.count("SELECT count(*) FROM console_sessions") == 1)
            #expect(try await live.get(client, "/console").status == .ok)
        }
    }
}
