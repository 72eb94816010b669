import Actions
import ArgumentParser
import Foundation
import Gate
import GateCore
import Persistence

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
        var overlapSeconds: Int = WebhookSecretsController.defaultOverlapSeconds

        func run() async throws {
            let (config, logger) = try Startup.configure()
            guard let secrets = config.gmail.secrets else { throw Startup.fail("SECRETS_KEY is not set: secrets cannot be sealed") }
            guard (0...WebhookSecretsController.maximumOverlapSeconds).contains(overlapSeconds) else {
                throw Startup.fail("--overlap-seconds must be 0 to \(WebhookSecretsController.maximumOverlapSeconds)")
            }
            let secret = WebhookSignature.newSecret()
            let id = WebhookSecretsController.newID()
            let sealed = try secrets.seal(secret, workspaceID: workspace)
            do {
                _ = try await withRunningPostgres(config.database, logger: logger) { [workspace, overlapSeconds] client in
                    try await WebhookSecretStore(client: client, logger: logger).rotate(
                        workspaceID: workspace, id: id, sealed: sealed, overlapSeconds: overlapSeconds,
                        createdBy: "cli", actor: Startup.cliActor)
                }
            } catch WebhookSecretStoreError.unknownWorkspace {
                throw Startup.fail("no workspace \(workspace)")
            }
            print("\(id) \(secret)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the secrets (never the secrets themselves).")

        @Option(help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let stored = try await withRunningPostgres(config.database, logger: logger) { [workspace] client in
                try await WebhookSecretStore(client: client, logger: logger).list(workspaceID: workspace)
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
            do {
                try await withRunningPostgres(config.database, logger: logger) { [workspace, id] client in
                    try await WebhookSecretStore(client: client, logger: logger).revoke(workspaceID: workspace, id: id, actor: Startup.cliActor)
                }
            } catch WebhookSecretStoreError.notFound {
                throw Startup.fail("\(workspace) has no webhook secret \(id)")
            }
            print("\(id) no longer signs")
        }
    }
}
