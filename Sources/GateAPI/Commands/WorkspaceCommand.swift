import ArgumentParser
import Gate
import Persistence

struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspace", abstract: "Manage workspaces.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a workspace with the default allowlist (ALLOWED_ACTIONS_DEFAULT, approval required).")

        @Argument(help: "Workspace id: ^[a-z0-9][a-z0-9-]{1,62}$")
        var id: String

        @Option(help: "Display name (defaults to the id).")
        var name: String?

        @Flag(help: "Succeed without changes when the workspace already exists.")
        var ifNotExists = false

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let defaults = config.allowedActionsDefault.map {
                DefaultPolicy(action: $0, approvalTimeoutSeconds: config.approvalTimeoutSeconds)
            }
            do {
                let workspace = try await withRunningPostgres(config.database, logger: logger) { client in
                    try await WorkspaceStore(client: client, logger: logger).create(
                        id: id, name: name ?? id, defaults: defaults, actor: Startup.cliActor)
                }
                print("created workspace \(workspace.id) (allowed actions: \(config.allowedActionsDefault.joined(separator: ", ")))")
            } catch WorkspaceStoreError.alreadyExists(let id) where ifNotExists {
                print("workspace \(id) already exists")
            } catch let error as WorkspaceStoreError {
                switch error {
                case .invalidID(let id): throw Startup.fail("invalid workspace id \"\(id)\": use ^[a-z0-9][a-z0-9-]{1,62}$")
                case .alreadyExists(let id): throw Startup.fail("workspace \(id) already exists")
                }
            } catch {
                throw Startup.fail("cannot reach Postgres: \(describe(error))")
            }
        }
    }
}
