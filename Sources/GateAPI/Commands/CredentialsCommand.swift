import Actions
import ArgumentParser
import Foundation
import Gate
import GateCore
import Logging
import Persistence
import PostgresNIO

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
            let input = FileHandle.standardInput.readDataToEndOfFile()
            guard let json = try? JSONDecoder().decode(JSONValue.self, from: input) else {
                throw Startup.fail("standard input is not a JSON object")
            }
            let saved = try await CredentialsCommand.run(config, logger, workspace: workspace) { [workspace] client in
                try await CredentialsCommand.credentials(client, logger, config).put(
                    workspaceID: workspace, input: json, actor: Startup.cliActor)
            }
            print("stored \(saved.kind) credentials for \(workspace)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show which kind of credentials a workspace has (never the secrets).")

        @Option(help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let stored = try await CredentialsCommand.run(config, logger, workspace: workspace) { [workspace] client in
                try await CredentialsCommand.credentials(client, logger, config).show(workspaceID: workspace)
            }
            print("\(stored.kind) set by \(stored.updatedBy) at \(RFC3339.format(stored.updatedAt))")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a workspace's Gmail credentials.")

        @Option(help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            try await CredentialsCommand.run(config, logger, workspace: workspace) { [workspace] client in
                try await CredentialsCommand.credentials(client, logger, config).delete(workspaceID: workspace, actor: Startup.cliActor)
            }
            print("deleted the Gmail credentials of \(workspace)")
        }
    }

    /// The use case on the operator's connection (the same one the REST routes call).
    static func credentials(_ client: PostgresClient, _ logger: Logger, _ config: AppConfig) -> ManageGmailCredentials {
        ManageGmailCredentials(store: GmailCredentialStore(client: client, logger: logger), secrets: config.gmail.secrets)
    }

    /// Runs `body` on a connection to the configured database, saying a refusal in words.
    static func run<T: Sendable>(
        _ config: AppConfig, _ logger: Logger, workspace: String, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        do {
            return try await withRunningPostgres(config.database, logger: logger, body)
        } catch let refusal as GmailCredentialsRefusal {
            switch refusal {
            case .invalid(let failure): throw Startup.fail(failure.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
            case .sealingUnavailable: throw Startup.fail("SECRETS_KEY is not set: credentials cannot be sealed")
            case .notFound: throw Startup.fail("\(workspace) has no Gmail credentials")
            }
        } catch {
            throw Startup.fail("credentials: \(describe(error))")
        }
    }
}
