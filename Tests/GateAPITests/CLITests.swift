import Actions
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import GateAPI

/// The operator's path: workspace, first admin key and a reviewer token from the CLI.
@Suite struct CLITests {
    func gateAPI(_ arguments: [String], environment: [String: String], stdin: String = "") async throws -> (Int32?, String, String) {
        let out = "\(TestEnvironment.serversDirectory)/cli-\(UUID().uuidString)"
        try stdin.write(toFile: out + ".in", atomically: true, encoding: .utf8)
        let process = try ChildProcess(
            [TestEnvironment.productsDirectory.appendingPathComponent("gate-api").path] + arguments,
            environment: environment, stdinPath: out + ".in", stdoutPath: out + ".out", stderrPath: out + ".err")
        let status = await process.wait()
        let stdout = (try? String(contentsOfFile: out + ".out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
        return (status, stdout.trimmingCharacters(in: .whitespacesAndNewlines), stderr)
    }

    @Test func bootstrapAWorkspaceFromTheCommandLine() async throws {
        let identity = try await TestIdentity.make()
        try await TestDatabase.withFresh { db in
            let env = TestEnvironment.appEnvironment(databaseURL: db.url, overrides: identity.environment)
            let created = try await gateAPI(["workspace", "create", "team-1", "--name", "Team One"], environment: env)
            #expect(created.0 == 0, "\(created.2)")
            let again = try await gateAPI(["workspace", "create", "team-1"], environment: env)
            #expect(again.0 == 1 && again.2.contains("already exists"))
            #expect(try await gateAPI(["workspace", "create", "team-1", "--if-not-exists"], environment: env).0 == 0)
            let invalid = try await gateAPI(["workspace", "create", "Bad_Id"], environment: env)
            #expect(invalid.0 == 1 && invalid.2.contains("invalid workspace id"))

            let key = try await gateAPI(
                ["keys", "create", "--workspace", "team-1", "--name", "admin", "--scopes", "all", "--quiet"], environment: env)
            #expect(key.0 == 0, "\(key.2)")
            #expect(key.1.hasPrefix("gk_") && !key.1.contains("\n"))
            let token = try await gateAPI(
                ["token", "mint", "--sub", "rita", "--ws", "team-1=keys:admin", "--ttl", "600"], environment: env)
            #expect(token.0 == 0, "\(token.2)")
            let listed = try await gateAPI(["keys", "list", "--workspace", "team-1"], environment: env)
            #expect(listed.1.contains("\tactive\tadmin\t"))
            #expect(!listed.1.contains(key.1))

            try await withTestApp(databaseURL: db.url, environment: identity.environment) { client async throws in
                let path = "/v1/workspaces/team-1/api-keys"
                #expect(try await client.execute(uri: path, method: .get, headers: bearer(key.1)).status == .ok)
                #expect(try await client.execute(uri: path, method: .get, headers: bearer(token.1)).status == .ok)
            }

            let id = String(key.1.dropFirst(3).prefix(16))
            #expect(try await gateAPI(["keys", "rotate", "--workspace", "team-1", id, "--overlap-seconds", "0"], environment: env).0 == 0)
            #expect(try await gateAPI(["keys", "revoke", "--workspace", "team-1", id], environment: env).0 == 0)
            #expect(try await gateAPI(["keys", "revoke", "--workspace", "team-1", "nosuchkey"], environment: env).0 == 1)
            let actions = try await db.withClient { client in
                let rows = try await client.query("SELECT action, actor_type FROM audit_events ORDER BY seq")
                var result: [String] = []
                for try await (action, actor) in rows.decode((String, String).self) { result.append("\(action):\(actor)") }
                return result
            }
            #expect(actions == ["workspace.created:cli", "key.created:cli", "key.rotated:cli", "key.revoked:cli"])
            // The default allowlist was seeded, gated.
            let policies = try await db.withClient { client in
                let rows = try await client.query("SELECT action FROM policies WHERE workspace_id = 'team-1' AND approval = 'required' ORDER BY action")
                var result: [String] = []
                for try await (action) in rows.decode(String.self) { result.append(action) }
                return result
            }
            #expect(policies == ["gmail.send", "task.create"])
        }
    }

    /// The operator may name any person a key acts for (audited), but cannot give a key
    /// a vote: `--scopes all` means every scope a key may hold.
    @Test func theOperatorNamesAKeysPersonButCannotGiveItAVote() async throws {
        try await TestDatabase.withFresh { db in
            let env = TestEnvironment.appEnvironment(databaseURL: db.url)
            #expect(try await gateAPI(["workspace", "create", "team-2"], environment: env).0 == 0)
            let voter = try await gateAPI(
                ["keys", "create", "--workspace", "team-2", "--name", "voter", "--scopes", "approvals:read,approvals:decide"],
                environment: env)
            #expect(voter.0 == 1 && voter.2.contains("approvals:decide cannot be given to a key"), "\(voter.2)")
            let all = try await gateAPI(
                ["keys", "create", "--workspace", "team-2", "--name", "agent", "--scopes", "all", "--acts-for", "bob", "--quiet"],
                environment: env)
            #expect(all.0 == 0, "\(all.2)")
            let id = String(all.1.dropFirst(3).prefix(16))
            #expect(try await db.count("""
                SELECT count(*)::int FROM api_keys WHERE id = '\(id)' AND acts_for = 'bob' AND creator_chain = ARRAY['cli']
                  AND NOT 'approvals:decide' = ANY (scopes) AND cardinality(scopes) = 7
                """) == 1)
            #expect(try await db.count("""
                SELECT count(*)::int FROM audit_events
                WHERE actor_type = 'cli' AND ((action = 'key.created' AND details->>'acts_for' = 'bob')
                   OR (action = 'key.create_refused' AND details->>'reason' = 'scope_not_for_keys' AND outcome = 'denied'))
                """) == 2)
        }
    }

    @Test func gmailCredentialsFromStandardInput() async throws {
        try await TestDatabase.withFresh { db in
            var env = TestEnvironment.appEnvironment(databaseURL: db.url)
            #expect(try await gateAPI(["workspace", "create", "team-2"], environment: env).0 == 0)
            let json = #"{"type":"refresh_token","refresh_token":"1//secret-refresh","client_id":"id.apps","client_secret":"s3cret"}"#
            let unkeyed = try await gateAPI(["credentials", "set", "--workspace", "team-2"], environment: env, stdin: json)
            #expect(unkeyed.0 == 1 && unkeyed.2.contains("SECRETS_KEY"))

            env["SECRETS_KEY"] = GmailExecutionTests.secretsKey
            let incomplete = try await gateAPI(
                ["credentials", "set", "--workspace", "team-2"], environment: env, stdin: #"{"type":"refresh_token"}"#)
            #expect(incomplete.0 == 1 && incomplete.2.contains("refresh_token is required"))
            let stored = try await gateAPI(["credentials", "set", "--workspace", "team-2"], environment: env, stdin: json)
            #expect(stored.0 == 0, "\(stored.2)")
            #expect(!stored.1.contains("s3cret") && !stored.2.contains("s3cret"))
            let shown = try await gateAPI(["credentials", "show", "--workspace", "team-2"], environment: env)
            #expect(shown.0 == 0 && shown.1.hasPrefix("refresh_token set by cli:"))

            let sealed = try await db.withClient { client in
                let rows = try await client.query("SELECT sealed FROM gmail_credentials WHERE workspace_id = 'team-2'")
                for try await (text) in rows.decode(String.self) { return text }
                return ""
            }
            let box = try SecretBox(base64Key: GmailExecutionTests.secretsKey)
            #expect(try GoogleCredentials.open(sealed, with: box, workspaceID: "team-2")
                == .refreshToken(refreshToken: "1//secret-refresh", clientID: "id.apps", clientSecret: "s3cret"))
            #expect(throws: (any Error).self) { try GoogleCredentials.open(sealed, with: box, workspaceID: "other") }

            #expect(try await gateAPI(["credentials", "delete", "--workspace", "team-2"], environment: env).0 == 0)
            #expect(try await gateAPI(["credentials", "show", "--workspace", "team-2"], environment: env).0 == 1)
        }
    }

    @Test func webhookSecretsFromTheShell() async throws {
        try await TestDatabase.withFresh { db in
            var env = TestEnvironment.appEnvironment(databaseURL: db.url)
            #expect(try await gateAPI(["workspace", "create", "team-3"], environment: env).0 == 0)
            let unkeyed = try await gateAPI(["webhook-secrets", "rotate", "--workspace", "team-3"], environment: env)
            #expect(unkeyed.0 == 1 && unkeyed.2.contains("SECRETS_KEY"))
            env["SECRETS_KEY"] = GmailExecutionTests.secretsKey
            #expect(try await gateAPI(["webhook-secrets", "rotate", "--workspace", "nowhere"], environment: env).0 == 1)
            let rotated = try await gateAPI(["webhook-secrets", "rotate", "--workspace", "team-3", "--overlap-seconds", "0"], environment: env)
            #expect(rotated.0 == 0, "\(rotated.2)")
            let parts = rotated.1.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
            #expect(parts.count == 2 && parts[0].hasPrefix("whs_") && parts[1].hasPrefix("whsec_"))
            let listed = try await gateAPI(["webhook-secrets", "list", "--workspace", "team-3"], environment: env)
            #expect(listed.0 == 0 && listed.1.contains("\(parts[0]) created") && listed.1.contains("(current)"))
            #expect(!listed.1.contains("whsec_"))
            #expect(try await gateAPI(["webhook-secrets", "revoke", "--workspace", "team-3", parts[0]], environment: env).0 == 0)
            #expect(try await gateAPI(["webhook-secrets", "revoke", "--workspace", "team-3", "whs_unknown"], environment: env).0 == 1)
            #expect(try await db.count("SELECT count(*)::int FROM audit_events WHERE action LIKE 'webhook_secret.%' AND actor_type = 'cli'") == 2)
        }
    }
}
