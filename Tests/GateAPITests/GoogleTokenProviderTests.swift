import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Actions

@Suite struct GoogleTokenProviderTests {
    @Test func staticAccessTokenIsReturnedWithoutAnExchange() async throws {
        try await withFakeGoogle { google in
            let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL))
            let token1 = try await tokens.accessToken(workspaceID: "acme", credentials: .accessToken("ya29.x"))
            #expect(token1 == "ya29.x")
            #expect(google.tokenRequests.isEmpty)
        }
    }

    @Test func refreshTokenIsExchangedOnceAndCached() async throws {
        try await withFakeGoogle { google in
            let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL))
            let first = try await tokens.accessToken(workspaceID: "acme", credentials: google.refreshCredentials)
            #expect(first == "ya29.fake-minted-1")
            #expect(try await tokens.accessToken(workspaceID: "acme", credentials: google.refreshCredentials) == first)
            let request = try #require(google.tokenRequests.first)
            #expect(google.tokenRequests.count == 1)
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(request.form == [
                "grant_type": "refresh_token", "refresh_token": google.refreshToken, "client_id": google.clientID,
                "client_secret": google.clientSecret,
            ])
            // Another workspace with the same credentials has its own cache entry.
            let token2 = try await tokens.accessToken(workspaceID: "globex", credentials: google.refreshCredentials)
            #expect(token2 == "ya29.fake-minted-2")
        }
    }

    @Test func concurrentCallersShareOneExchange() async throws {
        try await withFakeGoogle { google in
            google.enqueueTokenResponses([.delayed(.milliseconds(300), .normal)])
            let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL))
            let credentials = google.refreshCredentials
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<25 {
                    group.addTask { try await tokens.accessToken(workspaceID: "acme", credentials: credentials) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 25 && Set(results) == ["ya29.fake-minted-1"])
            #expect(google.tokenRequests.count == 1)
            #expect(await tokens.exchangeCount == 1)
        }
    }

    @Test func tokenIsRefreshedAMinuteBeforeItExpires() async throws {
        try await withFakeGoogle { google in
            let clock = NIOLockedValueBox(Date(timeIntervalSince1970: 1_000_000))
            let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL), now: { clock.withLockedValue { $0 } })
            google.setTokenLifetime(seconds: 3599)
            let credentials = google.refreshCredentials
            let token3 = try await tokens.accessToken(workspaceID: "acme", credentials: credentials)
            #expect(token3 == "ya29.fake-minted-1")
            clock.withLockedValue { $0 += 3599 - 61 }
            let token4 = try await tokens.accessToken(workspaceID: "acme", credentials: credentials)
            #expect(token4 == "ya29.fake-minted-1")
            clock.withLockedValue { $0 += 2 }
            let token5 = try await tokens.accessToken(workspaceID: "acme", credentials: credentials)
            #expect(token5 == "ya29.fake-minted-2")
            #expect(google.tokenRequests.count == 2)
        }
    }

    @Test func invalidateDropsOnlyTheRejectedToken() async throws {
        try await withFakeGoogle { google in
            let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL))
            let credentials = google.refreshCredentials
            let first = try await tokens.accessToken(workspaceID: "acme", credentials: credentials)
            await tokens.invalidate(workspaceID: "acme", credentials: credentials, rejectedToken: first)
            let second = try await tokens.accessToken(workspaceID: "acme", credentials: credentials)
            #expect(second != first)
            // A late 401 for the old token must not throw away the new one.
            await tokens.invalidate(workspaceID: "acme", credentials: credentials, rejectedToken: first)
            #expect(try await tokens.accessToken(workspaceID: "acme", credentials: credentials) == second)
            await tokens.invalidate(workspaceID: "acme", credentials: credentials)
            let token6 = try await tokens.accessToken(workspaceID: "acme", credentials: credentials)
            #expect(token6 == "ya29.fake-minted-3")
        }
    }

    @Test func revokedRefreshTokenAndWrongClientArePermanent() async throws {
        try await withFakeGoogle { google in
            let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL))
            let revoked = GoogleCredentials.refreshToken(
                refreshToken: "1//revoked-refresh", clientID: google.clientID, clientSecret: google.clientSecret)
            let grant = await executionFailure { try await tokens.accessToken(workspaceID: "acme", credentials: revoked) }
            #expect(grant?.kind == .permanent && grant?.code == "token_invalid_grant")
            #expect(grant?.message.contains("revoked-refresh") == false)

            let wrongClient = GoogleCredentials.refreshToken(
                refreshToken: google.refreshToken, clientID: google.clientID, clientSecret: "wrong-secret")
            let client = await executionFailure { try await tokens.accessToken(workspaceID: "acme", credentials: wrongClient) }
            #expect(client?.kind == .permanent && client?.code == "token_invalid_client")
            #expect(client?.message.contains("wrong-secret") == false)
        }
    }

    @Test func outagesAreRetryableAndNotCached() async throws {
        try await withFakeGoogle { google in
            google.enqueueTokenResponses([.oauthError(503, "backend_error", retryAfter: "5"), .oauthError(429, "rate_limit_exceeded")])
            let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL))
            let credentials = google.refreshCredentials
            let unavailable = await executionFailure { try await tokens.accessToken(workspaceID: "acme", credentials: credentials) }
            #expect(unavailable == .retryable("token_unavailable", "Google token endpoint answered HTTP 503", retryAfter: .seconds(5)))
            let limited = await executionFailure { try await tokens.accessToken(workspaceID: "acme", credentials: credentials) }
            #expect(limited?.kind == .retryable && limited?.code == "token_rate_limited")
            let token7 = try await tokens.accessToken(workspaceID: "acme", credentials: credentials)
            #expect(token7 == "ya29.fake-minted-1")
        }
    }

    @Test func timeoutsAndUnreachableEndpointsAreRetryable() async throws {
        try await withFakeGoogle { google in
            // The answer would take 6 s; the 200 ms timeout must end the wait well before
            // (the bound leaves room for a loaded machine, not for a missing timeout).
            google.enqueueTokenResponses([.delayed(.seconds(6), .normal)])
            let tokens = GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL, requestTimeout: .milliseconds(200)))
            let started = ContinuousClock.now
            let timeout = await executionFailure {
                try await tokens.accessToken(workspaceID: "acme", credentials: google.refreshCredentials)
            }
            #expect(timeout?.kind == .retryable && timeout?.code == "timeout")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
        let stopped = try await FakeGoogle.start()
        await stopped.stop()
        let tokens = GoogleTokenProvider(configuration: .init(tokenURL: stopped.tokenURL, requestTimeout: .milliseconds(500)))
        let refused = await executionFailure {
            try await tokens.accessToken(workspaceID: "acme", credentials: stopped.refreshCredentials)
        }
        // AHC retries a refused connection until the deadline, then reports the connect
        // error, or the deadline itself on a busy machine: retryable either way.
        #expect(refused?.kind == .retryable && ["connection_failed", "timeout"].contains(refused?.code))
    }

    @Test func configurationComesFromTheEnvironment() throws {
        #expect(try GoogleTokenProvider.Configuration.fromEnvironment([:]).tokenURL == "https://oauth2.googleapis.com/token")
        #expect(try GoogleTokenProvider.Configuration.fromEnvironment(["GOOGLE_TOKEN_URL": "http://127.0.0.1:9/token"]).tokenURL
            == "http://127.0.0.1:9/token")
        #expect(throws: GoogleConfigurationError.self) { try GoogleTokenProvider.Configuration.fromEnvironment(["GOOGLE_TOKEN_URL": "oauth2"]) }
        #expect(try GmailClient.Configuration.fromEnvironment(["GMAIL_API_BASE_URL": "http://127.0.0.1:9/"]).baseURL == "http://127.0.0.1:9")
        #expect(try GmailClient.Configuration.fromEnvironment([:]).baseURL == "https://gmail.googleapis.com")
        #expect(try GmailSender.Configuration.fromEnvironment(["GMAIL_MESSAGE_ID_DOMAIN": "mail.acme.com"]).messageIDDomain == "mail.acme.com")
        #expect(throws: GoogleConfigurationError.self) { try GmailSender.Configuration.fromEnvironment(["GMAIL_MESSAGE_ID_DOMAIN": "a b"]) }
    }
}
