import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Actions

@Suite struct GmailClientTests {
    let raw = "Message-ID: <job_1@gateapi.invalid>\r\nTo: ann@example.com\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=UTF-8\r\n\r\nHello?>>>\r\n"

    func client(_ google: FakeGoogle, timeout: Duration = .seconds(10)) -> GmailClient {
        GmailClient(configuration: .init(baseURL: google.gmailBaseURL, requestTimeout: timeout))
    }

    @Test func sendPostsBase64URLRawWithBearerToken() async throws {
        try await withFakeGoogle { google in
            let sent = try await client(google).send(raw: raw, accessToken: google.validAccessToken)
            #expect(sent == GmailSentMessage(id: "msg-1", threadID: "thread-1"))
            let request = try #require(google.sendRequests.first)
            #expect(request.headers["authorization"] == "Bearer \(google.validAccessToken)")
            #expect(request.headers["content-type"] == "application/json")
            let encoded = try #require(
                (try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: String])?["raw"])
            #expect(!encoded.contains("=") && !encoded.contains("+") && !encoded.contains("/"))
            #expect(google.sentMessages.first?.raw == raw)
            #expect(google.sentMessages.first?.messageID == "job_1@gateapi.invalid")
        }
    }

    @Test func errorsAreClassified() async throws {
        try await withFakeGoogle { google in
            google.enqueueSendResponses([
                .gmailError(503, message: "Backend Error", retryAfter: "7"),
                .gmailError(400, reason: "invalidArgument", message: "Invalid To header"),
                .gmailError(403, reason: "rateLimitExceeded", message: "Rate Limit Exceeded"),
                .gmailError(403, reason: "insufficientPermissions", message: "Insufficient Permission"),
                .gmailError(404), .status(413),
                .gmailError(429, reason: "userRateLimitExceeded", retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"),
                .status(502, body: "<html>bad gateway</html>"),
            ])
            let gmail = client(google)
            var failures: [ExecutionFailure] = []
            for _ in 0..<8 {
                if let failure = await executionFailure({ try await gmail.send(raw: raw, accessToken: google.validAccessToken) }) {
                    failures.append(failure)
                }
            }
            #expect(failures.map(\.code) == [
                "gmail_unavailable", "gmail_bad_request", "gmail_rate_limited", "gmail_forbidden", "gmail_not_found",
                "gmail_message_too_large", "gmail_rate_limited", "gmail_unavailable",
            ])
            #expect(failures.map(\.kind) == [
                .retryable, .permanent, .retryable, .permanent, .permanent, .permanent, .retryable, .retryable,
            ])
            // Only the rate limits slow the workspace's credential down; a 503 is Gmail's own trouble.
            #expect(failures.map(\.slowsDownCredential) == [false, false, true, false, false, false, true, false])
            #expect(failures[0].retryAfter == .seconds(7))
            #expect(failures[0].message == "Gmail answered HTTP 503: Backend Error")
            #expect(failures[1].message == "Gmail rejected the message (HTTP 400 invalidArgument): Invalid To header")
            #expect(failures[6].retryAfter == .zero)  // an HTTP-date in the past
            #expect(google.sentMessages.isEmpty)
        }
    }

    @Test func unauthorizedIsRetryableForTheCallerToRefresh() async throws {
        try await withFakeGoogle { google in
            let failure = await executionFailure { try await client(google).send(raw: raw, accessToken: "ya29.unknown") }
            #expect(failure?.kind == .retryable && failure?.code == "gmail_unauthorized")
            #expect(failure?.message.contains("ya29") == false)
        }
    }

    @Test func findSentLooksUpTheMessageID() async throws {
        try await withFakeGoogle { google in
            let gmail = client(google)
            let seeded = google.seedSentMessage(messageID: "job_7@gateapi.invalid")
            #expect(try await gmail.findSent(rfc822MessageID: "job_7@gateapi.invalid", accessToken: google.validAccessToken) == seeded)
            #expect(try await gmail.findSent(rfc822MessageID: "<job_7@gateapi.invalid>", accessToken: google.validAccessToken) == seeded)
            #expect(try await gmail.findSent(rfc822MessageID: "job_8@gateapi.invalid", accessToken: google.validAccessToken) == nil)
            let request = try #require(google.listRequests.first)
            #expect(request.query == ["q": "rfc822msgid:job_7@gateapi.invalid", "includeSpamTrash": "true"])
            #expect(request.bearerToken == google.validAccessToken)

            google.enqueueListResponses([.gmailError(500)])
            let failure = await executionFailure {
                try await gmail.findSent(rfc822MessageID: "job_7@gateapi.invalid", accessToken: google.validAccessToken)
            }
            #expect(failure?.code == "gmail_unavailable")
        }
    }

    @Test func slowGmailIsARetryableTimeout() async throws {
        try await withFakeGoogle { google in
            // The answer comes after 6 s; the 250 ms timeout must end the call well before
            // (the bound leaves room for a loaded machine).
            google.enqueueSendResponses([.delayed(.seconds(6), .status(200, body: #"{"id":"late"}"#))])
            let started = ContinuousClock.now
            let failure = await executionFailure {
                try await client(google, timeout: .milliseconds(250)).send(raw: raw, accessToken: google.validAccessToken)
            }
            #expect(failure?.kind == .retryable && failure?.code == "timeout")
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }
}

@Suite struct GmailSenderTests {
    let email: GmailSend

    init() throws {
        email = try GmailSend.parse([
            "to": ["Zoë <zoe@example.com>"], "bcc": ["audit@example.com"], "subject": "Résumé – 請求書 🚀",
            "text": "Hallo", "html": "<p>Hallo</p>",
        ], form: .submitted).get()
    }

    func sender(_ google: FakeGoogle, timeout: Duration = .seconds(10), domain: String = "gateapi.invalid") -> GmailSender {
        GmailSender(
            client: GmailClient(configuration: .init(baseURL: google.gmailBaseURL, requestTimeout: timeout)),
            tokens: GoogleTokenProvider(configuration: .init(tokenURL: google.tokenURL)),
            configuration: .init(messageIDDomain: domain))
    }

    @Test func sendsWithADeterministicMessageID() async throws {
        try await withFakeGoogle { google in
            let result = try await sender(google).send(
                email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_01ABC", attempt: 1,
                checkAlreadySent: false)
            #expect(result == GmailSendResult(
                messageID: "msg-1", threadID: "thread-1", rfc822MessageID: "<job_01ABC@gateapi.invalid>", alreadySent: false))
            #expect(google.listRequests.isEmpty)
            let sent = try #require(google.sentMessages.first)
            #expect(sent.accessToken == "ya29.fake-minted-1")
            #expect(sent.messageID == "job_01ABC@gateapi.invalid")
            #expect(try sent.message.subject == "Résumé – 請求書 🚀")
            #expect(try sent.message.addresses("To") == [.init(name: "Zoë", address: "zoe@example.com")])
            #expect(try sent.message.addresses("Bcc") == [.init(name: nil, address: "audit@example.com")])
            #expect(sent.message.text == "Hallo" && sent.message.html == "<p>Hallo</p>")
            #expect(sent.message.root.parameters["boundary"] == GmailSender.boundary(jobID: "job_01ABC"))
        }
    }

    @Test func aRetryFindsTheAlreadySentMessageAndDoesNotSendTwice() async throws {
        try await withFakeGoogle { google in
            let gmail = sender(google, domain: "mail.acme.com")
            let first = try await gmail.send(
                email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_2", attempt: 1,
                checkAlreadySent: false)
            for (attempt, check) in [(1, true), (2, false)] {
                let again = try await gmail.send(
                    email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_2", attempt: attempt,
                    checkAlreadySent: check)
                #expect(again == GmailSendResult(
                    messageID: first.messageID, threadID: first.threadID, rfc822MessageID: "<job_2@mail.acme.com>",
                    alreadySent: true))
            }
            #expect(google.sendRequests.count == 1 && google.listRequests.count == 2)
        }
    }

    @Test func aTimedOutSendThatGmailCompletedIsNotRepeated() async throws {
        try await withFakeGoogle { google in
            google.enqueueSendResponses([.delayed(.milliseconds(600), .normal)])
            let gmail = sender(google, timeout: .milliseconds(200))
            let failure = await executionFailure {
                try await gmail.send(
                    email, workspaceID: "acme", credentials: google.accessTokenCredentials, jobID: "job_3", attempt: 1,
                    checkAlreadySent: false)
            }
            #expect(failure?.code == "timeout" && failure?.kind == .retryable)
            #expect(failure?.retryAfter == .seconds(30))  // long enough for Gmail's search to see it
            // Gmail finishes the send after the client gave up.
            while google.sentMessages.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            let retry = try await sender(google).send(
                email, workspaceID: "acme", credentials: google.accessTokenCredentials, jobID: "job_3", attempt: 2,
                checkAlreadySent: false)
            #expect(retry.alreadySent && retry.messageID == "msg-1")
            #expect(google.sentMessages.count == 1)
        }
    }

    @Test func a401RefreshesTheTokenAndRetriesOnce() async throws {
        try await withFakeGoogle { google in
            let gmail = sender(google)
            _ = try await gmail.send(
                email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_4a", attempt: 1,
                checkAlreadySent: false)
            google.expireAccessTokens()  // the cached token now gets a real 401
            let result = try await gmail.send(
                email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_4b", attempt: 1,
                checkAlreadySent: false)
            #expect(!result.alreadySent)
            #expect(google.sendRequests.map(\.bearerToken) == ["ya29.fake-minted-1", "ya29.fake-minted-1", "ya29.fake-minted-2"])
            #expect(google.sentMessages.map(\.accessToken) == ["ya29.fake-minted-1", "ya29.fake-minted-2"])
            #expect(google.tokenRequests.count == 2)
        }
    }

    @Test func a401ThatPersistsIsPermanent() async throws {
        try await withFakeGoogle { google in
            google.enqueueSendResponses([.gmailError(401), .gmailError(401)])
            let failure = await executionFailure {
                try await sender(google).send(
                    email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_5", attempt: 1,
                    checkAlreadySent: false)
            }
            #expect(failure?.kind == .permanent && failure?.code == "gmail_unauthorized")
            #expect(google.sendRequests.count == 2 && google.tokenRequests.count == 2)

            google.enqueueSendResponses([.gmailError(401)])
            let stale = await executionFailure {
                try await sender(google).send(
                    email, workspaceID: "acme", credentials: google.accessTokenCredentials, jobID: "job_6", attempt: 1,
                    checkAlreadySent: false)
            }
            #expect(stale?.kind == .permanent && stale?.code == "gmail_unauthorized")
            #expect(google.sendRequests.count == 3 && google.tokenRequests.count == 2)
        }
    }

    @Test func retryableFailuresPassThroughAndNothingIsSent() async throws {
        try await withFakeGoogle { google in
            google.enqueueSendResponses([.gmailError(503, retryAfter: "3"), .gmailError(503, retryAfter: "45"), .gmailError(429)])
            let failure = await executionFailure {
                try await sender(google).send(
                    email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_7", attempt: 1,
                    checkAlreadySent: false)
            }
            #expect(failure?.kind == .retryable && failure?.retryAfter == .seconds(30))
            for expected: Duration? in [.seconds(45), nil] {  // Gmail's longer wait; a 429 surely sent nothing
                let next = await executionFailure {
                    try await sender(google).send(
                        email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_7", attempt: 1,
                        checkAlreadySent: false)
                }
                #expect(next?.isRetryable == true && next?.retryAfter == expected)
            }
            let bad = await executionFailure {
                try await sender(google).send(
                    email, workspaceID: "acme", credentials: .accessToken(""), jobID: "job_8", attempt: 1, checkAlreadySent: false)
            }
            #expect(bad?.kind == .permanent && bad?.code == "credentials_invalid")
            #expect(google.sentMessages.isEmpty)
        }
    }

    @Test func aRetryThatCannotSearchDoesNotSend() async throws {
        try await withFakeGoogle { google in
            google.enqueueListResponses([.gmailError(403, reason: "insufficientPermissions", message: "Insufficient Permission")])
            let failure = await executionFailure {
                try await sender(google).send(
                    email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_9", attempt: 2,
                    checkAlreadySent: false)
            }
            #expect(failure?.kind == .deliveryUnknown && failure?.code == "delivery_unknown")
            #expect(google.sendRequests.isEmpty)
        }
    }

    @Test func aSearchThatIsOnlyAPrecautionMayBeRefusedAndTheMessageIsSent() async throws {
        try await withFakeGoogle { google in
            google.enqueueListResponses([.gmailError(403, reason: "insufficientPermissions", message: "Insufficient Permission")])
            // An earlier attempt failed before any send left (say, a token error).
            let sent = try await sender(google).send(
                email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_10", attempt: 2,
                checkAlreadySent: true, mayHaveDelivered: false)
            #expect(sent.alreadySent == false)
            #expect(google.listRequests.count == 1 && google.sentMessages.count == 1)
        }
    }

    @Test func nothingIsSentUnlessBeforeSendingSucceeds() async throws {
        try await withFakeGoogle { google in
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await sender(google).send(
                    email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_11", attempt: 1,
                    checkAlreadySent: false, beforeSending: { throw Refused() })
            }
            #expect(google.sendRequests.isEmpty)
            let calls = NIOLockedValueBox(0)
            _ = try await sender(google).send(
                email, workspaceID: "acme", credentials: google.refreshCredentials, jobID: "job_11", attempt: 1,
                checkAlreadySent: false, beforeSending: { calls.withLockedValue { $0 += 1 } })
            #expect(calls.withLockedValue { $0 } == 1 && google.sentMessages.count == 1)
        }
    }

    @Test func messageIDsAreValidForAnyJobID() {
        #expect(GmailSender.messageID(jobID: "job_01J9ZK") == "job_01J9ZK@gateapi.invalid")
        let odd = GmailSender.messageID(jobID: "job with <spaces>@x", domain: "mail.acme.com")
        #expect(odd.hasPrefix("job-") && odd.hasSuffix("@mail.acme.com") && odd.count == 4 + 64 + 14)
        #expect(GmailSender.boundary(jobID: "a") == GmailSender.boundary(jobID: "a"))
        #expect(GmailSender.boundary(jobID: "a") != GmailSender.boundary(jobID: "b"))
    }
}
