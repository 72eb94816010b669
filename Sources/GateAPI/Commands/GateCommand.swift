import ArgumentParser
import Auth
import Foundation
import Gate
import Logging
import Persistence

@main
struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate-api",
        abstract: "GateAPI: a human-in-the-loop gated job API for AI agents.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, WorkspaceCommand.self, KeysCommand.self, CredentialsCommand.self,
            TokenCommand.self, AuditCommand.self, WebhookSecretsCommand.self, ConsoleCommand.self, ReviewersCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}

/// Start-up shared by every subcommand: configuration from the environment, then
/// logging. A bad variable ends the process with one line on stderr.
enum Startup {
    static func configure(logToStandardError: Bool = true) throws -> (AppConfig, Logger) {
        let config: AppConfig
        do {
            config = try AppConfig.load(from: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("gate-api: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        LoggingSetup.bootstrap(format: config.logFormat, level: config.logLevel, toStandardError: logToStandardError)
        return (config, Logger(label: "gateapi"))
    }

    /// Changes made from the command line are audited as the operator's.
    static var cliActor: AuditActor {
        AuditActor(kind: .cli, id: ProcessInfo.processInfo.environment["USER"] ?? "operator")
    }

    /// `--ws acme=approvals:read,approvals:decide` (repeatable), as `token mint` and
    /// `console link` take it: workspace id → scopes; an unknown scope is an error.
    static func workspaceScopes(_ entries: [String]) throws -> [String: Set<Scope>] {
        var memberships: [String: Set<Scope>] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, WorkspaceID.isValid(String(parts[0])) else {
                throw fail("--ws must look like acme=approvals:read,approvals:decide")
            }
            guard case .success(let scopes) = Scope.parse(parts[1].split(separator: ",").map(String.init)) else {
                throw fail("unknown scope in \(entry)")
            }
            memberships[String(parts[0]), default: []].formUnion(scopes)
        }
        return memberships
    }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("gate-api: \(message)\n".utf8))
        return ExitCode.failure
    }
}
