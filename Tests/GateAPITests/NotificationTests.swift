import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

/// Reaching reviewers (issue 27): a gated job is announced by email (the development
/// outbox, rendered as for Gmail) and Slack (a local stand-in of its Web API), each
/// message carrying the person's own single-use decision links; deciding from Slack
/// and from an email link is the person's vote under every rule of the gate.
@Suite struct NotificationTests {
    static func environment(_ slack: FakeSlack, _ extra: [String: String] = [:]) -> [String: String] {
        slack.environment.merging(
            ["EMAIL_DELIVERY": "outbox", "NOTIFICATION_POLL_INTERVAL_MS": "50", "CONSOLE_PUBLIC_URL": "http://gate.test"]
                .merging(extra) { $1 }
        ) { $1 }
    }

    static func setUp(_ fixture: AuthFixture, _ client: any TestClientProtocol, policy: String) async throws {
        let put = try await client.execute(
            uri: "/v1/workspaces/acme/policies/gmail.send", method: .put, headers: bearer(fixture.adminKey), body: ByteBuffer(string: policy))
        #expect(put.status == .ok, "\(String(buffer: put.body))")
        for (person, body) in [
            ("rita", #"{"email":"rita@acme.example","display_name":"Rita","slack_user_id":"URITA1","groups":["finance"]}"#),
            ("sam", #"{"email":"sam@acme.example","slack_user_id":"USAM01","groups":["finance"]}"#),
            ("nora", #"{"email":"nora@acme.example","slack_user_id":"UNORA1","groups":["finance"],"notify":false}"#),
            ("sec", #"{"email":"sec@acme.example","groups":["security"]}"#),
            // The admin key acts for admin-person: the submitter is never asked.
            ("admin-person", #"{"email":"admin@acme.example","slack_user_id":"UADMIN","groups":["finance"]}"#),
        ] {
            let answer = try await client.execute(
                uri: "/v1/workspaces/acme/reviewers/\(person)", method: .put, headers: bearer(fixture.adminKey), body: ByteBuffer(string: body))
            #expect(answer.status == .ok, "\(String(buffer: answer.body))")
        }
    }

    static func submit(_ fixture: AuthFixture, _ client: any TestClientProtocol, callback: String? = nil) async throws -> (job: String, approval: String) {
        var body = emailBody
        if let callback { body = body.replacingOccurrences(of: #""action":"#, with: #""callback_url":"\#(callback)","action":"#) }
        let job = try await fixture.submit(client, key: UUID().uuidString, body: body)
        let jobID = try #require(job.json["id"] as? String, "\(String(buffer: job.body))")
        return (jobID, try await approvalID(fixture, job: jobID))
    }

    /// The notification emails the outbox kept: recipient → decoded text.
    static func outboxTexts(_ fixture: AuthFixture) async throws -> [String: String] {
        try await fixture.db.withClient { db in
            var found: [String: String] = [:]
            for try await (recipients, raw) in try await db.query(
                "SELECT recipients, raw FROM dev_outbox WHERE outbox_id LIKE 'ntf-%' ORDER BY created_at"
            ).decode(([String], String).self) {
                found[recipients.joined(separator: ",")] = ConsoleOutboxController.textBody(of: raw)?.joined(separator: "\n") ?? ""
            }
            return found
        }
    }

    static func approvalID(_ fixture: AuthFixture, job: String) async throws -> String {
        try await fixture.db.withClient { db in
            for try await id in try await db.query("SELECT id FROM approvals WHERE job_id = \(job)").decode(String.self) { return id }
            return ""
        }
    }

    static func link(_ label: String, in text: String) -> String? {
        text.components(separatedBy: "\n").first { $0.hasPrefix(label) }?
            .components(separatedBy: " ").last.map { $0.replacingOccurrences(of: "http://gate.test", with: "") }
    }

    static func form(_ fields: [(String, String)]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&"))
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func twoReviewersDecideFromSlackAndFromAnEmailLinkAndNothingElseDecides() async throws {
        try await withFakeSlack { slack in
            try await AuthFixture.with(environment: Self.environment(slack)) { fixture, client in
                try await Self.setUp(fixture, client, policy: #"{"approval":"required","approval_timeout_seconds":3600,"required_approvals":2,"notifications":{"groups":["finance"]}}"#)
                let (jobID, approvalID) = try await Self.submit(fixture, client)

                // Rita and Sam are told, by email and Slack; Nora (notify off) and the submitter are not.
                #expect(try await eventually(within: .seconds(10)) {
                    guard slack.posted.count == 2 else { return false }
                    return try await Self.outboxTexts(fixture).count == 2
                })
                #expect(Set(slack.posted.compactMap(\.channel)) == ["URITA1", "USAM01"])
                #expect(slack.posted.allSatisfy { $0.authorization == "Bearer \(FakeSlack.botToken)" })
                let texts = try await Self.outboxTexts(fixture)
                #expect(Set(texts.keys) == ["rita@acme.example", "sam@acme.example"])
                let samText = try #require(texts["sam@acme.example"])
                #expect(samText.contains("To: ann@example.com") && samText.contains("Subject: Quarterly report") && samText.contains("Attached."))
                #expect(samText.contains("Review it in the console: http://gate.test/console/w/acme/approvals/\(approvalID)"))
                let deliveries = try await fixture.count(
                    "SELECT count(*)::int FROM notification_deliveries WHERE approval_id = '\(approvalID)' AND status = 'delivered'")
                #expect(deliveries == 4)

                // Rita approves in Slack.
                let ritaPost = try #require(slack.posted.first { $0.channel == "URITA1" })
                let ritaApprove = try #require(ritaPost.buttons["approve"])
                #expect(ritaPost.buttons["reject"]?.hasPrefix("http://gate.test/decide/gdl_") == true)
                let pressed = FakeSlack.interaction(user: "URITA1", value: ritaApprove, responseURL: slack.responseURL)
                let answer = try await client.execute(
                    uri: "/slack/interactions", method: .post, headers: pressed.headers, body: ByteBuffer(string: pressed.body))
                #expect(answer.status == .ok)
                #expect(try await fixture.count("SELECT count(*)::int FROM approval_votes WHERE approval_id = '\(approvalID)' AND reviewer = 'user:rita'") == 1)

                // What decides nothing: the same callback again, an unsigned one, a stale one,
                // one signed with another secret, and Sam's button pressed by someone else.
                let replay = try await client.execute(
                    uri: "/slack/interactions", method: .post, headers: pressed.headers, body: ByteBuffer(string: pressed.body))
                #expect(replay.status == .ok)
                let samPost = try #require(slack.posted.first { $0.channel == "USAM01" })
                let samSlackLink = try #require(samPost.buttons["approve"])
                var unsigned = FakeSlack.interaction(user: "USAM01", value: samSlackLink)
                unsigned.headers[HTTPField.Name("X-Slack-Signature")!] = nil
                #expect(try await client.execute(
                    uri: "/slack/interactions", method: .post, headers: unsigned.headers, body: ByteBuffer(string: unsigned.body)).status == .unauthorized)
                let stale = FakeSlack.interaction(user: "USAM01", value: samSlackLink, timestamp: Date().addingTimeInterval(-600))
                #expect(try await client.execute(
                    uri: "/slack/interactions", method: .post, headers: stale.headers, body: ByteBuffer(string: stale.body)).status == .unauthorized)
                let forged = FakeSlack.interaction(user: "USAM01", value: samSlackLink, secret: "another-apps-signing-secret-000")
                #expect(try await client.execute(
                    uri: "/slack/interactions", method: .post, headers: forged.headers, body: ByteBuffer(string: forged.body)).status == .unauthorized)
                let stranger = FakeSlack.interaction(user: "USTRANGER", value: samSlackLink, responseURL: slack.responseURL)
                #expect(try await client.execute(
                    uri: "/slack/interactions", method: .post, headers: stranger.headers, body: ByteBuffer(string: stranger.body)).status == .ok)
                #expect(try await fixture.count("SELECT count(*)::int FROM approval_votes WHERE approval_id = '\(approvalID)'") == 1)
                // The replay and the stranger are told privately why nothing happened.
                #expect(try await eventually { slack.responses.count == 2 })
                let told = slack.responses.compactMap { $0.body["text"] as? String }
                #expect(told.contains { $0.contains("Each link decides once") } && told.contains { $0.contains("sent to another reviewer") }, "\(told)")
                #expect(slack.responses.allSatisfy { $0.body["response_type"] as? String == "ephemeral" })
                let refused = try await fixture.auditRows(action: "decision_link.refused")
                #expect(refused.map(\.2) == ["used", "wrong_person"], "\(refused)")
                #expect(refused.map(\.0) == ["slack:URITA1", "slack:USTRANGER"], "a refusal names who pressed, not the link's person")

                // Sam decides from the email: opening the link (twice, as a scanner would) decides nothing.
                let samApprove = try #require(Self.link("Approve:", in: samText))
                for _ in 0..<2 {
                    let page = try await client.execute(uri: samApprove, method: .get)
                    #expect(page.status == .ok)
                    let html = String(buffer: page.body)
                    #expect(html.contains("Deciding as <strong id=\"person\">sam</strong>") && html.contains("Subject: Quarterly report"))
                    #expect(page.headers[.cacheControl] == "no-store" && page.headers[.contentSecurityPolicy] != nil)
                }
                #expect(try await fixture.job(client, jobID)["status"] as? String == "pending_approval")
                let foreignOrigin = try await client.execute(
                    uri: samApprove, method: .post, headers: Self.formHeaders.merging([.origin: "https://evil.example"]),
                    body: Self.form([("comment", "")]))
                #expect(foreignOrigin.status == .forbidden)
                let confirmed = try await client.execute(uri: samApprove, method: .post, headers: Self.formHeaders, body: Self.form([("comment", "ok")]))
                #expect(confirmed.status == .ok, "\(String(buffer: confirmed.body))")
                #expect(String(buffer: confirmed.body).contains("The approval is complete (2 of 2)"))
                #expect(try await fixture.job(client, jobID)["status"] as? String != "pending_approval")
                let again = try await client.execute(uri: samApprove, method: .post, headers: Self.formHeaders, body: Self.form([("comment", "ok")]))
                #expect(again.status == .gone)

                let used = try await fixture.db.withClient { db in
                    var rows: [String] = []
                    for try await (actor, person, via) in try await db.query(
                        "SELECT actor_id, details->>'person', details->>'via' FROM audit_events WHERE action = 'decision_link.used' ORDER BY seq"
                    ).decode((String?, String, String).self) {
                        rows.append("\(actor ?? "-") \(person) \(via)")
                    }
                    return rows
                }
                #expect(used == ["rita rita slack", "sam sam email"])
                let voters = try await fixture.count(
                    "SELECT count(*)::int FROM audit_events WHERE action = 'approval.granted' AND actor_type = 'user' AND actor_id = 'sam'")
                #expect(voters == 1)

                // Once decided, both Slack messages say who decided.
                #expect(try await eventually(within: .seconds(10)) { slack.updated.count == 2 })
                #expect(slack.updated.allSatisfy { ($0.text ?? "").contains("approved") && ($0.text ?? "").contains("rita (approve)") })
                #expect(Set(slack.updated.compactMap(\.channel)) == ["DURITA1", "DUSAM01"])
            }
        }
    }

    @Test func aLinkForAChangedPayloadAnotherDecisionOrAnExpiredApprovalDecidesNothing() async throws {
        try await withFakeSlack { slack in
            try await AuthFixture.with(environment: Self.environment(slack)) { fixture, client in
                try await Self.setUp(fixture, client, policy: #"{"approval":"required","approval_timeout_seconds":3600,"notifications":{"groups":["finance"]}}"#)
                let (jobID, approvalID) = try await Self.submit(fixture, client)
                #expect(try await eventually(within: .seconds(10)) { (try await Self.outboxTexts(fixture)).count == 2 })
                let texts = try await Self.outboxTexts(fixture)
                let ritaText = try #require(texts["rita@acme.example"])
                let samText = try #require(texts["sam@acme.example"])
                let ritaReject = try #require(Self.link("Reject:", in: ritaText))
                let samApprove = try #require(Self.link("Approve:", in: samText))

                // A rejection needs its reason; without one nothing is spent or decided.
                let noReason = try await client.execute(
                    uri: ritaReject, method: .post, headers: Self.formHeaders, body: Self.form([("code", "other"), ("reason", " ")]))
                #expect(noReason.status == .unprocessableContent)
                // The payload the links were minted for no longer matches.
                try await fixture.execute("UPDATE approvals SET payload_hash = repeat('f', 64) WHERE id = '\(approvalID)'")
                let changed = try await client.execute(uri: samApprove, method: .post, headers: Self.formHeaders, body: Self.form([]))
                #expect(changed.status == .conflict)
                #expect(String(buffer: changed.body).contains("What you reviewed is not what would run"))
                #expect(try await fixture.job(client, jobID)["status"] as? String == "pending_approval")
                #expect(try await fixture.auditRows(action: "approval.vote_refused").map(\.2) == ["payload_hash_mismatch"])

                // Expired: the link refuses even before the sweeper runs.
                try await fixture.execute("UPDATE decision_links SET expires_at = now() - interval '1 second'")
                let expired = try await client.execute(uri: ritaReject, method: .get)
                #expect(expired.status == .gone && String(buffer: expired.body).contains("expired"))
                let unknown = try await client.execute(uri: "/decide/gdl_" + String(repeating: "A", count: 32), method: .get)
                #expect(unknown.status == .notFound)
                let garbage = try await client.execute(uri: "/decide/anything", method: .post, headers: Self.formHeaders, body: Self.form([]))
                #expect(garbage.status == .notFound)
                #expect(try await fixture.count("SELECT count(*)::int FROM approval_votes") == 0)
                // Only hashes are stored.
                let tokens = try await fixture.count("SELECT count(*)::int FROM decision_links WHERE length(token_hash) = 32")
                #expect(tokens == 8, "an approve and a reject link in each of four messages")
            }
        }
    }

    @Test func theAgentsWebhookHearsApprovalRequestedAndPoliciesChooseWhoIsTold() async throws {
        try await withFakeSlack { slack in
            let webhooks = ["WEBHOOK_SECRET": String(repeating: "w", count: 32)]
            try await AuthFixture.with(environment: Self.environment(slack, webhooks)) { fixture, client in
                let bad = try await client.execute(
                    uri: "/v1/workspaces/acme/policies/gmail.send", method: .put, headers: bearer(fixture.adminKey),
                    body: ByteBuffer(string: #"{"approval_timeout_seconds":60,"notifications":{"groups":["Finance"],"remind_at":[0.9,0.5],"escalate_to":"security","escalate_after_seconds":60,"channels":["fax"],"pager":true}}"#))
                #expect(bad.status == .unprocessableContent)
                let fields = Set((bad.json["errors"] as? [[String: String]])?.compactMap { $0["field"] } ?? [])
                #expect(fields == [
                    "notifications.groups", "notifications.remind_at", "notifications.escalate_after_seconds", "notifications.channels",
                    "notifications.pager",
                ], "\(fields)")
                // Only email, only the security group, no links (deciding takes a console sign-in).
                try await Self.setUp(
                    fixture, client,
                    policy: #"{"approval":"required","approval_timeout_seconds":3600,"notifications":{"groups":["security"],"channels":["email"],"decision_links":false}}"#)
                let policy = try await client.execute(uri: "/v1/workspaces/acme/policies/gmail.send", method: .get, headers: bearer(fixture.adminKey))
                #expect((policy.json["notifications"] as? [String: Any])?["groups"] as? [String] == ["security"])
                let (jobID, _) = try await Self.submit(fixture, client, callback: "https://agent.example/hook")
                #expect(try await eventually(within: .seconds(10)) { (try await Self.outboxTexts(fixture)).count == 1 })
                let texts = try await Self.outboxTexts(fixture)
                let text = try #require(texts["sec@acme.example"])
                #expect(!text.contains("/decide/") && text.contains("takes a console sign-in"))
                #expect(slack.posted.isEmpty)
                #expect(try await fixture.count("SELECT count(*)::int FROM decision_links") == 0)
                let announced = try await fixture.count(
                    "SELECT count(*)::int FROM webhook_deliveries WHERE job_id = '\(jobID)' AND event = 'approval.requested' AND payload->'approval'->>'job_id' = '\(jobID)'")
                #expect(announced == 1)
            }
        }
    }

    @Test func notificationEmailsGoThroughTheWorkspacesGmailAndARefusedSendIsRetried() async throws {
        try await withFakeGoogle { google in
            // Gmail's rate limit answers the first send; the retry finds nothing sent and sends.
            google.enqueueSendResponses([.gmailError(429, reason: "rateLimitExceeded", retryAfter: "1")])
            let environment = [
                "SECRETS_KEY": GmailExecutionTests.secretsKey, "GMAIL_API_BASE_URL": google.gmailBaseURL, "GOOGLE_TOKEN_URL": google.tokenURL,
                "NOTIFICATION_POLL_INTERVAL_MS": "50", "NOTIFICATION_RETRY_BASE_SECONDS": "1", "CONSOLE_PUBLIC_URL": "https://gate.example.com",
            ]
            try await AuthFixture.with(environment: environment) { fixture, client in
                let stored = try await client.execute(
                    uri: "/v1/workspaces/acme/gmail-credentials", method: .put, headers: bearer(fixture.adminKey),
                    body: ByteBuffer(string: #"{"type":"access_token","access_token":"\#(google.validAccessToken)"}"#))
                #expect(stored.status == .ok, "\(String(buffer: stored.body))")
                try await Self.setUp(
                    fixture, client,
                    policy: #"{"approval":"required","approval_timeout_seconds":3600,"notifications":{"groups":["security"]}}"#)
                let (_, approvalID) = try await Self.submit(fixture, client)
                #expect(try await eventually(within: .seconds(15)) { google.sentMessages.count == 1 })
                let sent = try #require(google.sentMessages.first)
                #expect(try sent.message.addresses("To").map(\.address) == ["sec@acme.example"])
                let text = try #require(sent.message.body("text/plain"))
                #expect(text.contains("Approve: https://gate.example.com/decide/gdl_") && text.contains("Subject: Quarterly report"))
                #expect(sent.messageID?.hasPrefix("ntf-") == true, "a notification's Message-ID names its delivery: \(sent.messageID ?? "-")")
                #expect(google.sendRequests.count == 2 && google.listRequests.count == 1, "the retry first looked for an earlier send")
                let delivered = try await fixture.count(
                    "SELECT count(*)::int FROM notification_deliveries WHERE approval_id = '\(approvalID)' AND status = 'delivered' AND attempts = 2")
                #expect(delivered == 1)
            }
        }
    }

    @Test func aWorkspaceWithoutGmailCredentialsIsNotifiedThroughTheDeploymentsAccount() async throws {
        try await withFakeGoogle { google in
            let environment = [
                "GMAIL_API_BASE_URL": google.gmailBaseURL, "GOOGLE_TOKEN_URL": google.tokenURL, "NOTIFICATION_POLL_INTERVAL_MS": "50",
                "CONSOLE_PUBLIC_URL": "https://gate.example.com",
                // No SECRETS_KEY, no workspace credentials: only the deployment's account can send.
                "NOTIFICATION_GMAIL_CREDENTIALS": #"{"type":"access_token","access_token":"\#(google.validAccessToken)"}"#,
            ]
            try await AuthFixture.with(environment: environment) { fixture, client in
                try await Self.setUp(
                    fixture, client, policy: #"{"approval":"required","approval_timeout_seconds":3600,"notifications":{"groups":["security"]}}"#)
                let (jobID, _) = try await Self.submit(fixture, client)
                #expect(try await eventually(within: .seconds(15)) { google.sentMessages.count == 1 })
                let sent = try #require(google.sentMessages.first)
                #expect(try sent.message.addresses("To").map(\.address) == ["sec@acme.example"])
                #expect(sent.messageID?.hasPrefix("ntf-") == true)
                #expect(try await fixture.count("SELECT count(*)::int FROM notification_deliveries WHERE status = 'delivered'") == 1)
                // The account sends notifications, never the workspace's jobs: the job, once
                // approved, waits for credentials of the workspace's own.
                let approved = try await fixture.decide(client, "approve", try await Self.approvalID(fixture, job: jobID), as: try await fixture.reviewer("sec"))
                #expect(approved.status == .ok)
                #expect(google.sentMessages.count == 1)
            }
        }
    }

    @Test func anUnreadableDeploymentAccountStopsTheServerAtStartWithoutShowingIt() throws {
        var environment = TestEnvironment.appEnvironment(databaseURL: "postgres://unused@127.0.0.1:1/none")
        environment["NOTIFICATION_GMAIL_CREDENTIALS"] = #"{"type":"access_token","access_token":"ya29.secret-value","extra":1}"#
        #expect {
            _ = try AppConfig.load(from: environment)
        } throws: { error in
            let text = "\(error)"
            return text.contains("NOTIFICATION_GMAIL_CREDENTIALS") && !text.contains("ya29.secret-value")
        }
    }

    @Test func remindersAndEscalationFireOnceEachAcrossTwoReplicas() async throws {
        try await withFakeSlack { slack in
            let identity = try await TestIdentity.make()
            try await TestDatabase.withFresh { db in
                let adminKey = try await AuthFixture.seed(db)
                let fixture = AuthFixture(db: db, adminKey: adminKey, identity: identity)
                var settings = Self.environment(slack)
                settings.merge(identity.environment) { $1 }
                settings["RATE_LIMIT_PER_MINUTE"] = "100000"
                let environment = settings
                try await withTestApp(databaseURL: db.url, environment: environment) { first in
                    try await withTestApp(databaseURL: db.url, environment: environment) { _ in
                        try await Self.setUp(
                            fixture, first,
                            // Reminders at 4 and 8 s, escalation at 6 s: Rita's vote lands well before the
                            // first reminder even on a loaded machine.
                            policy: #"{"approval":"required","approval_timeout_seconds":16,"required_approvals":2,"notifications":{"groups":["finance"],"channels":["email","slack"],"remind_at":[0.25,0.5],"escalate_to":"security","escalate_after_seconds":6}}"#)
                        var approvals: [String] = []
                        for _ in 0..<3 { approvals.append(try await Self.submit(fixture, first).approval) }
                        // Rita votes on the first: she is not reminded of it.
                        let rita = try await identity.token(TestIdentity.claims(sub: "rita", ws: ["acme": ["approvals:read", "approvals:decide"]]))
                        let voted = try await first.execute(
                            uri: "/v1/workspaces/acme/approvals/\(approvals[0])/approve", method: .post, headers: bearer(rita),
                            body: ByteBuffer(string: "{}"))
                        #expect(voted.status == .ok, "\(String(buffer: voted.body))")
                        #expect(try await eventually(within: .seconds(25)) {
                            let waiting = try await fixture.count(
                                "SELECT count(*)::int FROM approval_notices WHERE done_at IS NULL AND kind <> 'decided'")
                            let escalations = try await fixture.count("SELECT count(*)::int FROM approval_notices WHERE kind = 'escalation'")
                            return waiting == 0 && escalations == 3
                        })
                        // Each approval: requested, two reminders, one escalation — each fired once.
                        let kinds = try await fixture.count(
                            "SELECT count(*)::int FROM approval_notices WHERE kind IN ('requested','reminder','escalation') AND done_at IS NOT NULL")
                        #expect(kinds == 12)
                        let emails = try await db.withClient { client in
                            var rows: [String: Int] = [:]
                            for try await (kind, person, count) in try await client.query(
                                """
                                SELECT n.kind, d.person, count(*)::int FROM notification_deliveries d JOIN approval_notices n ON n.id = d.notice_id
                                WHERE d.channel = 'email' GROUP BY n.kind, d.person
                                """
                            ).decode((String, String, Int).self) {
                                rows["\(kind) \(person)"] = count
                            }
                            return rows
                        }
                        #expect(emails == [
                            "requested rita": 3, "requested sam": 3,
                            // The first approval's reminders skip Rita, who voted on it.
                            "reminder rita": 4, "reminder sam": 6,
                            "escalation sec": 3,
                        ], "\(emails)")
                    }
                }
            }
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}
