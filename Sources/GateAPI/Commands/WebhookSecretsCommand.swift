import Actions
import ArgumentParser
import Foundation
import Gate
import GateCore
import Logging
import Persistence
import PostgresNIO

/// The shell's way to a workspace's webhook signing secrets (the same rules and audit
/// rows as `/v1/workspaces/{ws}/webhook-secrets`, actor type `cli`).
struct WebhookSecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-secrets", abstract: "Manage a workspace's webhook signing secrets (sealed with SECRETS_KEY).",
        subcommands: [Rotate.self, List.self, Revoke.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the workspace's current secret and print it (once); the one it replaces signs for the overlap.")

        @Option(help: "Workspace id.")
        var workspace: String
        @Option(help: "Seconds the replaced secret keeps signing (0 to 2592000).")
        var overlapSeconds: Int = ManageWebhookSecrets.defaultOverlapSeconds

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let (stored, secret) = try await WebhookSecretsCommand.run(config, logger, workspace: workspace) { [workspace, overlapSeconds] client in
                try await WebhookSecretsCommand.secrets(client, logger, config).rotate(
                    workspaceID: workspace, overlapSeconds: overlapSeconds, createdBy: "cli", actor: Startup.cliActor)
            }
            print("\(stored.id) \(secret)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the secrets (never the secrets themselves).")

        @Option(help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let stored = try await WebhookSecretsCommand.run(config, logger, workspace: workspace) { [workspace] client in
                try await WebhookSecretsCommand.secrets(client, logger, config).list(workspaceID: workspace)
            }
            for secret in stored {
                let until = secret.expiresAt.map { " until \(RFC3339.format($0))" } ?? " (current)"
                print("\(secret.id) created \(RFC3339.format(secret.createdAt)) by \(secret.createdBy)\(until)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a secret signing at once.")

        @Option(help: "Workspace id.")
        var workspace: String
        @Argument(help: "The secret's id (whs_…).")
        var id: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            try await WebhookSecretsCommand.run(config, logger, workspace: workspace, id: id) { [workspace, id] client in
                try await WebhookSecretsCommand.secrets(client, logger, config).revoke(
                    workspaceID: workspace, id: id, actor: Startup.cliActor)
            }
            print("\(id) no longer signs")
        }
    }

    /// The use case on the operator's connection (the same one the REST routes call).
    static func secrets(_ client: PostgresClient, _ logger: Logger, _ config: AppConfig) -> ManageWebhookSecrets {
        ManageWebhookSecrets(store: WebhookSecretStore(client: client, logger: logger), secrets: config.gmail.secrets)
    }

    /// Runs `body` on a connection to the configured database, saying a refusal in words.
    static func run<T: Sendable>(
        _ config: AppConfig, _ logger: Logger, workspace: String, id: String? = nil,
        _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        do {
            return try await withRunningPostgres(config.database, logger: logger, body)
        } catch let refusal as WebhookSecretRefusal {
            switch refusal {
            case .overlapOutOfRange: throw Startup.fail("--overlap-seconds must be 0 to \(ManageWebhookSecrets.maximumOverlapSeconds)")
            case .sealingUnavailable: throw Startup.fail("SECRETS_KEY is not set: secrets cannot be sealed")
            case .unknownWorkspace: throw Startup.fail("no workspace \(workspace)")
            case .notFound: throw Startup.fail("\(workspace) has no webhook secret \(id ?? "")")
            }
        }
    }
}
