import ArgumentParser
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
            TokenCommand.self, AuditCommand.self, WebhookSecretsCommand.self, ConsoleCommand.self,
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

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("gate-api: \(message)\n".utf8))
        return ExitCode.failure
    }
}
