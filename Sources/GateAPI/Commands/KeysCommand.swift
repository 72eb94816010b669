import ArgumentParser
import Auth
import Actions
import Foundation
import Gate
import Logging
import Persistence
import PostgresNIO

/// API keys from the command line, so the first admin key can be made without one.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list, revoke and rotate API keys.",
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self])

    /// The same use case as the REST key routes (`AdministerKeys`), as the operator.
    static func keys(_ client: PostgresClient, _ logger: Logger, _ config: AppConfig) -> AdministerKeys {
        AdministerKeys(store: APIKeyStore(client: client, logger: logger), rotationOverlapSeconds: config.keyRotationOverlapSeconds)
    }

    struct WorkspaceOption: ParsableArguments {
        @Option(name: .shortAndLong, help: "Workspace id.")
        var workspace: String
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print its secret (shown once).")
        @OptionGroup var target: WorkspaceOption
        @Option(help: "A name that says what the key is for.")
        var name: String
        @Option(help: "Comma-separated scopes, e.g. jobs:write,jobs:read (or \"all\": every scope a key may hold).")
        var scopes: String
        @Option(help: "The person accountable for the key (separation of duties): they cannot approve its jobs.")
        var actsFor: String?
        @Option(help: "Days until the key expires (none by default).")
        var expiresInDays: Int?
        @Flag(help: "Print only the key.")
        var quiet = false

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let grantable = Scope.allCases.filter(Scope.grantableToKeys.contains).map(\.rawValue)
            let names = scopes == "all" ? grantable : scopes.split(separator: ",").map { String($0) }
            guard case .success(let parsed) = Scope.parse(names), !parsed.isEmpty else {
                throw Startup.fail("--scopes must be a comma-separated list of: \(grantable.joined(separator: ", "))")
            }
            let expiresAt = expiresInDays.map { Date().addingTimeInterval(Double($0) * 86400) }
            do {
                let (record, token) = try await withRunningPostgres(config.database, logger: logger) { client in
                    try await KeysCommand.keys(client, logger, config).create(
                        workspace: target.workspace, name: name, scopes: names, expiresAt: expiresAt, actsFor: actsFor,
                        by: .operator("cli"), actor: Startup.cliActor)
                }
                if quiet {
                    print(token.value)
                } else {
                    print("key id:  \(record.id)\nscopes:  \(record.scopes.map(\.rawValue).sorted().joined(separator: ","))")
                    print("secret:  \(token.value)\n(store it now: it is not shown again)")
                }
            } catch KeyAdministrationError.unknownWorkspace {
                throw Startup.fail("no workspace \(target.workspace); create it with `gate-api workspace create`")
            } catch KeyAdministrationError.refused(.scopeNotForKeys) {
                throw Startup.fail("approvals:decide cannot be given to a key: reviewers vote with their own token (gate-api token mint, or your identity provider)")
            } catch let invalid as ValidationFailure {
                throw Startup.fail(invalid.errors.map { "--\($0.field.replacingOccurrences(of: "_", with: "-")) \($0.message)" }.joined(separator: "; "))
            } catch {
                throw Startup.fail("\(describe(error))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a workspace's keys (never their secrets).")
        @OptionGroup var target: WorkspaceOption

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let records = try await withRunningPostgres(config.database, logger: logger) { client in
                try await APIKeyStore(client: client, logger: logger).list(workspaceID: target.workspace, limit: 10_000, after: nil)
            }
            for record in records {
                let state = record.revokedAt != nil ? "revoked" : (record.expiresAt.map { $0 <= Date() } == true ? "expired" : "active")
                print("\(record.id)\t\(state)\t\(record.name)\t\(record.scopes.map(\.rawValue).sorted().joined(separator: ","))")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key at once.")
        @OptionGroup var target: WorkspaceOption
        @Argument var id: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            do {
                _ = try await withRunningPostgres(config.database, logger: logger) { client in
                    try await KeysCommand.keys(client, logger, config).revoke(
                        workspace: target.workspace, id: id, by: .operator("cli"), actor: Startup.cliActor)
                }
                print("revoked \(id)")
            } catch KeyAdministrationError.notFound {
                throw Startup.fail("no key \(id) in workspace \(target.workspace)")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a new secret; the old one keeps working for the overlap period.")
        @OptionGroup var target: WorkspaceOption
        @Argument var id: String
        @Option(help: "Seconds the old secret stays valid (default API_KEY_ROTATION_OVERLAP_SECONDS).")
        var overlapSeconds: Int?

        func run() async throws {
            let (config, logger) = try Startup.configure()
            do {
                let (record, token) = try await withRunningPostgres(config.database, logger: logger) { client in
                    try await KeysCommand.keys(client, logger, config).rotate(
                        workspace: target.workspace, id: id, overlapSeconds: overlapSeconds, by: .operator("cli"),
                        actor: Startup.cliActor)
                }
                // The overlap never outlives the key, so it may be shorter than asked.
                let until = record.previousSecretExpiresAt.map { $0.formatted(.iso8601) } ?? "now"
                print("secret:  \(token.value)\n(the previous secret works until \(until))")
            } catch KeyAdministrationError.notFound {
                throw Startup.fail("no key \(id) in workspace \(target.workspace)")
            } catch KeyAdministrationError.revoked {
                throw Startup.fail("key \(id) is revoked")
            } catch let invalid as ValidationFailure {
                throw Startup.fail(invalid.errors.map { "--overlap-seconds \($0.message)" }.joined(separator: "; "))
            }
        }
    }
}
