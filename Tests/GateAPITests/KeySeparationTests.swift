import Foundation
import Gate
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Auth
@testable import GateAPI
@testable import Persistence

/// Separation of duties survives key administration (issue 22 §1): whoever can manage
/// keys cannot manufacture a second person to approve their own job, nor a quorum.
@Suite struct KeySeparationTests {
    static let everything = [
        "jobs:write", "jobs:read", "approvals:read", "approvals:decide", "policies:admin", "keys:admin", "audit:read",
    ]

    /// The attack of the issue: a key admin makes a key "acting for" an invented person,
    /// submits with it and approves. The invented person is refused (audited), and a key
    /// the admin made, directly or through another key, acts for the admin.
    @Test func aKeyAdminCannotApproveAJobOfAKeyTheyMade() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let alice = try await fixture.userToken("alice", Self.everything)

            let puppet = try await fixture.createKey(client, as: alice, #"{"name":"puppet","scopes":["jobs:write"],"acts_for":"sock-puppet"}"#)
            #expect(puppet.status == .unprocessableContent)
            #expect(String(buffer: puppet.body).contains("acts_for"))
            #expect(try await fixture.count("SELECT count(*)::int FROM api_keys WHERE acts_for = 'sock-puppet'") == 0)
            #expect(try await fixture.auditRows(action: "key.create_refused").map(\.2) == ["acts_for_another_person"])
            // Naming oneself is allowed, and so is saying nothing: both act for alice.
            let named = try await fixture.createKey(client, as: alice, #"{"name":"mine","scopes":["jobs:write"],"acts_for":"alice"}"#)
            #expect(named.status == .created && named.json["acts_for"] as? String == "alice")

            let first = try await fixture.newKey(client, as: alice, #"{"name":"agent admin","scopes":["keys:admin","jobs:write"]}"#)
            let second = try await fixture.newKey(client, as: first.secret, #"{"name":"agent","scopes":["jobs:write"]}"#)
            let viaKey = try await fixture.createKey(client, as: first.secret, #"{"name":"x","scopes":["jobs:write"],"acts_for":"bob"}"#)
            #expect(viaKey.status == .unprocessableContent)
            #expect(try await fixture.count("SELECT count(*)::int FROM api_keys WHERE id = '\(second.id)' AND acts_for = 'alice'") == 1)

            let approvalID = try await fixture.pendingEmail(client, by: second.secret)
            #expect(try await fixture.decide(client, "approve", approvalID, as: alice).status == .forbidden)
            #expect(try await fixture.auditRows(action: "approval.vote_refused").map(\.2) == ["own_job"])
            // Someone else may.
            let carol = try await fixture.reviewer("carol")
            #expect(try await fixture.decide(client, "approve", approvalID, as: carol).status == .ok)
        }
    }

    /// The creator chain, not only the person: a key the operator made for bob, rotated
    /// by alice (who so holds its secret), and a key made by that key, submit; alice may
    /// not approve either job although both act for bob.
    @Test func whoeverRotatedOrCreatedTheSubmittingKeyCannotApprove() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            let bobsAgent = try await fixture.operatorKey(scopes: [.jobsWrite, .keysAdmin], actsFor: "bob")
            let alice = try await fixture.userToken("alice", Self.everything)
            let rotated = try await fixture.rotateKey(client, bobsAgent.id, as: alice, overlap: 0)
            #expect(rotated.status == .ok)
            let stolen = try #require(rotated.json["key"] as? String)
            #expect(rotated.json["acts_for"] as? String == "bob")
            let child = try await fixture.newKey(client, as: stolen, #"{"name":"child","scopes":["jobs:write"]}"#)

            for credential in [stolen, child.secret] {
                let approvalID = try await fixture.pendingEmail(client, by: credential)
                #expect(try await fixture.decide(client, "approve", approvalID, as: alice).status == .forbidden)
                #expect(try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("bob")).status == .forbidden)
                #expect(try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("carol")).status == .ok)
            }
            #expect(try await fixture.auditRows(action: "approval.vote_refused").map(\.2) == Array(repeating: "own_job", count: 4))
            let chain = try await fixture.count(
                "SELECT count(*)::int FROM api_keys WHERE id = '\(child.id)' AND creator_chain @> ARRAY['api_key:\(bobsAgent.id)', 'cli', 'user:alice']")
            #expect(chain == 1)
        }
    }

    /// Votes are people's: a key cannot be given `approvals:decide`, a key holding it from
    /// before cannot vote (audited), and N keys acting for N invented people are no quorum.
    @Test func keysCannotVoteNorMakeAQuorum() async throws {
        try await AuthFixture.with { fixture, client in
            try await fixture.allowBothActions(client)
            try await fixture.gate(client, approvals: 2)
            let alice = try await fixture.userToken("alice", Self.everything)
            for creator in [alice, fixture.adminKey] {
                let refused = try await fixture.createKey(client, as: creator, #"{"name":"voter","scopes":["approvals:decide"]}"#)
                #expect(refused.status == .unprocessableContent)
            }
            #expect(try await fixture.auditRows(action: "key.create_refused").map(\.2) == ["scope_not_for_keys", "scope_not_for_keys"])

            // Keys from before the rule, acting for two invented people, with the scope.
            var voters: [String] = []
            for person in ["ghost-1", "ghost-2"] {
                let key = try await fixture.operatorKey(scopes: [.approvalsRead], actsFor: person)
                try await fixture.execute("UPDATE api_keys SET scopes = scopes || 'approvals:decide'::text WHERE id = '\(key.id)'")
                voters.append(key.secret)
            }
            let approvalID = try await fixture.pendingEmail(client, by: fixture.adminKey)
            for voter in voters {
                let vote = try await fixture.decide(client, "approve", approvalID, as: voter)
                #expect(vote.status == .forbidden, "\(String(buffer: vote.body))")
            }
            #expect(try await fixture.auditRows(action: "approval.vote_refused").map(\.2) == ["not_a_person", "not_a_person"])
            #expect(try await fixture.count("SELECT count(*)::int FROM approval_votes") == 0)

            // A key's approval recorded before the rule does not count either.
            try await fixture.execute(
                "INSERT INTO approval_votes (approval_id, reviewer, reviewer_person, decision) VALUES ('\(approvalID)', 'api_key:legacy00000000', 'ghost-3', 'approve')")
            let one = try await fixture.decide(client, "approve", approvalID, as: alice)
            #expect(one.status == .ok)
            #expect(one.json["status"] as? String == "pending" && one.json["approvals"] as? Int == 1)
            let two = try await fixture.decide(client, "approve", approvalID, as: try await fixture.reviewer("carol"))
            #expect(two.json["status"] as? String == "approved" && two.json["approvals"] as? Int == 2)
        }
    }

    /// Keys from before migration 0013 get their creator chain from `created_by`,
    /// following keys made by keys back to a person or the CLI.
    @Test func keysFromBeforeGetTheirChainFromCreatedBy() async throws {
        var earlier: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: TestEnvironment.migrationsDirectory)
        where name.hasSuffix(".sql") && name < "0013" {
            earlier[name] = try String(contentsOfFile: "\(TestEnvironment.migrationsDirectory)/\(name)", encoding: .utf8)
        }
        let before = try TestEnvironment.scratchMigrations(earlier)
        try await TestDatabase.withFresh(migrated: false) { db in
            try await db.migrate(directory: before)
            try await db.execute("INSERT INTO workspaces (id, name) VALUES ('acme', 'acme')")
            for (id, createdBy) in [
                ("k1", "user:alice"), ("k2", "api_key:k1"), ("k3", "api_key:k2"), ("k4", "cli"), ("k5", "api_key:gone"),
            ] {
                try await db.execute("""
                    INSERT INTO api_keys (id, workspace_id, name, scopes, secret_hash, created_by, acts_for)
                    VALUES ('\(id)', 'acme', '\(id)', '{jobs:write}', sha256('\(id)'), '\(createdBy)', 'someone')
                    """)
            }
            try await db.migrate()
            let chains = try await db.withClient { client in
                let rows = try await client.query("SELECT id, array_to_string(creator_chain, ' ') FROM api_keys ORDER BY id")
                var result: [String: String] = [:]
                for try await (id, chain) in rows.decode((String, String).self) { result[id] = chain }
                return result
            }
            #expect(chains == [
                "k1": "user:alice", "k2": "api_key:k1 user:alice", "k3": "api_key:k2 api_key:k1 user:alice", "k4": "cli",
                "k5": "api_key:gone",
            ])
        }
    }
}
