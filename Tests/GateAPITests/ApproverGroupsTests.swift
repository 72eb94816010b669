import Actions
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence
import Approvals
import Gate

/// Who must approve, by group, and delegation (issue 27 "Reviewers and groups"):
/// "2 of finance and 1 of security" decided over the API with people's tokens, the
/// directory's groups read when each vote is cast, a reviewer's delegate standing in
/// for their period — every refusal audited, nothing written by it.
@Suite struct ApproverGroupsTests {
    static func policy(_ client: any TestClientProtocol, _ fixture: AuthFixture, _ body: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/v1/workspaces/acme/policies/gmail.send", method: .put, headers: bearer(fixture.adminKey), body: ByteBuffer(string: body))
    }

    static func directory(_ client: any TestClientProtocol, _ fixture: AuthFixture, _ entries: [(String, String)]) async throws {
        for (person, body) in entries {
            let answer = try await client.execute(
                uri: "/v1/workspaces/acme/reviewers/\(person)", method: .put, headers: bearer(fixture.adminKey), body: ByteBuffer(string: body))
            #expect(answer.status == .ok, "\(String(buffer: answer.body))")
        }
    }

    static func votes(_ fixture: AuthFixture, _ approval: String) async throws -> [String] {
        try await fixture.db.withClient { db in
            var found: [String] = []
            for try await (person, standings) in try await db.query(
                """
                SELECT reviewer_person, (
                    SELECT string_agg(s->>'person' || CASE WHEN (s->>'delegated')::bool THEN '(for)' ELSE '' END || (s->'groups')::text, ' ')
                    FROM jsonb_array_elements(standings) AS s)
                FROM approval_votes WHERE approval_id = \(approval) ORDER BY created_at
                """
            ).decode((String?, String?).self) {
                found.append("\(person ?? "-") \(standings ?? "none")")
            }
            return found
        }
    }

    @Test func aQuorumOfGroupsCountsEachPersonOnceAndRefusesEveryoneOutsideThem() async throws {
        try await AuthFixture.with { fixture, client in
            // A count below the rules' sum is refused, not raised.
            let low = try await Self.policy(
                client, fixture, #"{"required_approvals":2,"approvers":[{"group":"finance","count":2},{"group":"security","count":1}]}"#)
            #expect(low.status == .unprocessableContent)
            let bad = try await Self.policy(
                client, fixture, #"{"approvers":[{"group":"Finance","count":0},{"group":"ops","count":1,"x":1},{"group":"ops","count":1}]}"#)
            let fields = (bad.json["errors"] as? [[String: String]])?.compactMap { $0["field"] } ?? []
            #expect(Set(fields) == ["approvers[0].group", "approvers[0].count", "approvers[1].x", "approvers[2].group"], "\(fields)")

            let saved = try await Self.policy(
                client, fixture, #"{"approval":"required","approvers":[{"group":"finance","count":2},{"group":"security","count":1}]}"#)
            #expect(saved.status == .ok, "\(String(buffer: saved.body))")
            #expect(saved.json["required_approvals"] as? Int == 3)
            #expect((saved.json["approvers"] as? [[String: Any]])?.count == 2)
            try await Self.directory(client, fixture, [
                ("rita", #"{"email":"rita@acme.example","groups":["finance"]}"#),
                ("sam", #"{"email":"sam@acme.example","groups":["finance","security"]}"#),
                ("sec", #"{"email":"sec@acme.example","groups":["security"]}"#),
                ("omar", #"{"email":"omar@acme.example"}"#),
                ("admin-person", #"{"email":"admin@acme.example","groups":["finance"]}"#),
            ])
            let (jobID, approval, _) = try await fixture.pendingEmail(client)
            // The rules travel with the approval.
            let shown = try await client.execute(uri: "/v1/workspaces/acme/approvals/\(approval)", method: .get, headers: bearer(fixture.adminKey))
            #expect((shown.json["approvers"] as? [[String: Any]])?.first?["group"] as? String == "finance", "\(String(buffer: shown.body))")

            // Omar is in no named group (and "ghost" not in the directory): neither decides, either way.
            for person in ["omar", "ghost"] {
                for verb in ["approve", "reject"] {
                    let refused = try await fixture.decide(
                        client, verb, approval, as: try await fixture.reviewer(person), body: #"{"reason":"no"}"#)
                    #expect(refused.status == .forbidden, "\(String(buffer: refused.body))")
                    #expect((refused.json["detail"] as? String)?.contains("2 of finance and 1 of security") == true)
                }
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM approval_votes") == 0)
            let refusals = try await fixture.auditRows(action: "approval.vote_refused")
            #expect(refusals.count == 4 && refusals.allSatisfy { $0.2 == "not_in_approver_groups" })
            // The submitter's person is in finance, but never counts.
            let own = try await fixture.decide(client, "approve", approval, as: try await fixture.reviewer("admin-person"))
            #expect(own.status == .forbidden)

            // Sam (finance and security) and Rita (finance): two of three slots, whichever
            // group Sam fills.
            for person in ["sam", "rita"] {
                let voted = try await fixture.decide(client, "approve", approval, as: try await fixture.reviewer(person))
                #expect(voted.status == .ok && voted.json["status"] as? String == "pending", "\(String(buffer: voted.body))")
            }
            let last = try await fixture.decide(client, "approve", approval, as: try await fixture.reviewer("sec"))
            #expect(last.status == .ok && last.json["status"] as? String == "approved", "\(String(buffer: last.body))")
            #expect(try await fixture.job(client, jobID)["status"] as? String != "pending_approval")
            let recorded = try await Self.votes(fixture, approval)
            #expect(recorded.count == 3 && recorded[0] == #"sam sam["finance", "security"]"#, "\(recorded)")
        }
    }

    @Test func twoOfFinanceIsNotMetByOnePersonNorByTwoOutsideIt() async throws {
        try await AuthFixture.with { fixture, client in
            let saved = try await Self.policy(
                client, fixture, #"{"approval":"required","required_approvals":3,"approvers":[{"group":"finance","count":2}]}"#)
            #expect(saved.status == .ok, "\(String(buffer: saved.body))")
            try await Self.directory(client, fixture, [
                ("rita", #"{"email":"rita@acme.example","groups":["finance"]}"#),
                ("sam", #"{"email":"sam@acme.example","groups":["finance"]}"#),
            ])
            let (_, approval, _) = try await fixture.pendingEmail(client)
            // One slot is free: anyone fills it, but two outsiders and Rita are not two of finance.
            for person in ["omar", "zoe", "rita"] {
                let voted = try await fixture.decide(client, "approve", approval, as: try await fixture.reviewer(person))
                #expect(voted.status == .ok && voted.json["status"] as? String == "pending", "\(person): \(String(buffer: voted.body))")
            }
            let done = try await fixture.decide(client, "approve", approval, as: try await fixture.reviewer("sam"))
            #expect(done.json["status"] as? String == "approved", "\(String(buffer: done.body))")
        }
    }

    @Test func aDelegateStandsInForTheirPeriodIsToldInsteadAndNeverLendsASubmitterTheirVote() async throws {
        let environment = ["EMAIL_DELIVERY": "outbox", "NOTIFICATION_POLL_INTERVAL_MS": "50", "CONSOLE_PUBLIC_URL": "http://gate.test"]
        try await AuthFixture.with(environment: environment) { fixture, client in
            let saved = try await Self.policy(client, fixture, #"{"approval":"required","approvers":[{"group":"security","count":1}]}"#)
            #expect(saved.status == .ok, "\(String(buffer: saved.body))")
            try await Self.directory(client, fixture, [
                ("sec", #"{"email":"sec@acme.example","groups":["security"]}"#),
                ("omar", #"{"email":"omar@acme.example"}"#),
                ("rita", #"{"email":"rita@acme.example","groups":["finance"]}"#),
            ])
            let until = RFC3339.format(Date().addingTimeInterval(86400))
            func delegation(_ person: String, as credential: String, _ body: String?) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/workspaces/acme/reviewers/\(person)/delegation", method: body == nil ? .delete : .put,
                    headers: bearer(credential), body: body.map { ByteBuffer(string: $0) })
            }
            let sec = try await fixture.reviewer("sec", scopes: ["approvals:read", "approvals:decide", "jobs:read", "jobs:write"])
            let omar = try await fixture.reviewer("omar")

            // Every bad field named; someone else's delegation is not theirs to name.
            let bad = try await delegation("sec", as: sec, #"{"delegate":"sec","from":"yesterday","until":"2020-01-01T00:00:00Z","x":1}"#)
            let fields = (bad.json["errors"] as? [[String: String]])?.compactMap { $0["field"] } ?? []
            #expect(Set(fields) == ["delegate", "from", "until", "x"], "\(fields)")
            let unknown = try await delegation("sec", as: sec, #"{"delegate":"nobody","until":"\#(until)"}"#)
            #expect(unknown.status == .conflict)
            let foreign = try await delegation("sec", as: omar, #"{"delegate":"omar","until":"\#(until)"}"#)
            #expect(foreign.status == .forbidden)
            #expect(try await fixture.auditRows(action: "reviewer.delegation_refused").first?.0 == "omar")
            #expect(try await delegation("nobody", as: fixture.adminKey, nil).status == .notFound)

            let named = try await delegation("sec", as: sec, #"{"delegate":"omar","until":"\#(until)"}"#)
            #expect(named.status == .ok, "\(String(buffer: named.body))")
            #expect((named.json["delegation"] as? [String: Any])?["delegate"] as? String == "omar")
            #expect(try await fixture.auditRows(action: "reviewer.delegation_changed").map(\.0) == ["sec"])

            // Sec is out: Omar hears of the approval instead, and his vote counts for security.
            let (_, approval, _) = try await fixture.pendingEmail(client)
            #expect(try await eventually(within: .seconds(10)) {
                try await fixture.count("SELECT count(*)::int FROM notification_deliveries WHERE status = 'delivered'") == 1
            })
            let told = try await fixture.db.withClient { db in
                var people: [String] = []
                for try await person in try await db.query("SELECT person FROM notification_deliveries").decode(String.self) {
                    people.append(person)
                }
                return people
            }
            #expect(told == ["omar"])
            let rita = try await fixture.decide(client, "approve", approval, as: try await fixture.reviewer("rita"))
            #expect(rita.status == .forbidden)
            let stood = try await fixture.decide(client, "approve", approval, as: omar)
            #expect(stood.json["status"] as? String == "approved", "\(String(buffer: stood.body))")
            #expect(try await Self.votes(fixture, approval) == [
                #"omar omar[] sec(for)["security"]"#
            ])

            // On a job Sec submitted, Omar cannot lend her security standing back to her.
            let own = try await fixture.submit(client, key: UUID().uuidString, body: emailBody, credential: sec)
            #expect(own.status == .created, "\(String(buffer: own.body))")
            let ownApproval = try await NotificationTests.approvalID(fixture, job: own.json["id"] as! String)
            #expect(try await fixture.decide(client, "approve", ownApproval, as: omar).status == .forbidden)

            // Ended: Omar stands for nobody any more.
            let ended = try await delegation("sec", as: fixture.adminKey, nil)
            #expect(ended.status == .ok && ended.json["delegation"] is NSNull, "\(String(buffer: ended.body))")
            let (_, later, _) = try await fixture.pendingEmail(client)
            #expect(try await fixture.decide(client, "approve", later, as: omar).status == .forbidden)
            #expect(try await fixture.decide(client, "approve", later, as: sec).json["status"] as? String == "approved")
        }
    }

    /// The submission's and the vote's prepared statements bind the rules and standings
    /// as text, NULL or not: a statement first prepared with NULL must still take a value
    /// on the same connection (Postgres would otherwise type the parameter jsonb, whose
    /// binary form text is not — a 500 the contract test found).
    @Test func aConnectionThatFirstWroteNoRulesWritesRulesAndStandingsNext() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await AuthFixture.seed(db)
            try await db.withClient { client in
                let jobs = JobStore(client: client, logger: TestEnvironment.logger)
                let approvals = ApprovalStore(client: client, logger: TestEnvironment.logger)
                let actor = AuditActor(kind: .system, id: "test")
                for (index, rules) in [[], [ApproverRule(group: "finance", count: 1)], [], [ApproverRule(group: "ops", count: 2)]].enumerated() {
                    let job = NewJob(
                        workspaceID: "acme", action: "gmail.send", params: ["to": ["ann@example.com"]], payloadHash: String(repeating: "a", count: 63) + "\(index)",
                        status: .pendingApproval, idempotencyKey: "k\(index)", submittedByType: "api_key", submittedBy: "k",
                        actsFor: nil, callbackURL: nil, requiredApprovals: max(1, rules.reduce(0) { $0 + $1.count }),
                        approvalTimeoutSeconds: 600, approverRules: rules)
                    let insert = JobInsert(job, actor: actor)
                    let outcome: JobInsertOutcome
                    do { outcome = try await jobs.insert(insert) } catch { throw FixtureError(String(reflecting: error)) }
                    guard case .created = outcome else { throw FixtureError("not created") }
                    let ballot = try #require(try await approvals.ballot(workspaceID: "acme", id: insert.approvalID))
                    #expect(ballot.approval.approverRules == rules)
                    let standings: [Standing]? = rules.isEmpty ? nil : [Standing(person: "rita", groups: ["finance"])]
                    let written = try await Self.reflecting { try await approvals.record(
                        VoteWrite(
                            approval: ballot.approval, version: ballot.version, decision: .approve,
                            reviewer: Reviewer(principal: "user:rita", person: "rita"), comment: nil, payloadHashSeen: nil,
                            newStatus: .pending, approvals: 1, reason: nil, reasonCode: nil, actor: actor, standings: standings)) }
                    #expect(written != nil)
                    let again = try #require(try await approvals.ballot(workspaceID: "acme", id: insert.approvalID))
                    #expect(again.approval.votes.first?.standings == standings)
                }
            }
        }
    }

    static func reflecting<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw FixtureError(String(reflecting: error)) }
    }
}
