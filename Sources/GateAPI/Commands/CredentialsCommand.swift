import Actions
import ArgumentParser
import Foundation
import Gate
import GateCore
import Persistence

struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials", abstract: "Manage a workspace's Gmail credentials (sealed with SECRETS_KEY).",
        subcommands: [Set.self, Show.self, Delete.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store Gmail credentials read as JSON from standard input (never from arguments, which `ps` shows).",
            discussion: """
                {"type":"refresh_token","refresh_token":"…","client_id":"…","client_secret":"…"}
                or {"type":"access_token","access_token":"…"}
                """)

        @Option(help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            guard let secrets = config.gmail.secrets else { throw Startup.fail("SECRETS_KEY is not set: credentials cannot be sealed") }
            let input = FileHandle.standardInput.readDataToEndOfFile()
            guard let json = try? JSONDecoder().decode(JSONValue.self, from: input) else {
                throw Startup.fail("standard input is not a JSON object")
            }
            let credentials: GoogleCredentials
            switch GoogleCredentialsInput.parse(json) {
            case .success(let parsed): credentials = parsed
            case .failure(let failure):
                throw Startup.fail(failure.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
            }
            let sealed = try credentials.sealed(with: secrets, workspaceID: workspace)
            do {
                let saved = try await withRunningPostgres(config.database, logger: logger) { client in
                    try await GmailCredentialStore(client: client, logger: logger).put(
                        workspaceID: workspace, kind: credentials.kind, sealed: sealed, actor: Startup.cliActor)
                }
                print("stored \(saved.kind) credentials for \(workspace)")
            } catch {
                throw Startup.fail("cannot store the credentials: \(describe(error))")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show which kind of credentials a workspace has (never the secrets).")

        @Option(help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let stored = try await withRunningPostgres(config.database, logger: logger) { client in
                try await GmailCredentialStore(client: client, logger: logger).find(workspaceID: workspace)
            }
            guard let stored else { throw Startup.fail("\(workspace) has no Gmail credentials") }
            print("\(stored.kind) set by \(stored.updatedBy) at \(RFC3339.format(stored.updatedAt))")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a workspace's Gmail credentials.")

        @Option(help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let deleted = try await withRunningPostgres(config.database, logger: logger) { client in
                try await GmailCredentialStore(client: client, logger: logger).delete(workspaceID: workspace, actor: Startup.cliActor)
            }
            guard deleted else { throw Startup.fail("\(workspace) has no Gmail credentials") }
            print("deleted the Gmail credentials of \(workspace)")
        }
    }
}
