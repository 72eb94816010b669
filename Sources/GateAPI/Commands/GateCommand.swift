import ArgumentParser
import Foundation
import Logging

@main
struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate-api",
        abstract: "GateAPI: a human-in-the-loop gated job API for AI agents.",
        subcommands: [ServeCommand.self, MigrateCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}

/// Start-up shared by every subcommand: configuration from the environment, then
/// logging. A bad variable ends the process with one line on stderr.
enum Startup {
    static func configure() throws -> (AppConfig, Logger) {
        let config: AppConfig
        do {
            config = try AppConfig.load(from: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("gate-api: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        LoggingSetup.bootstrap(format: config.logFormat, level: config.logLevel)
        return (config, Logger(label: "gateapi"))
    }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("gate-api: \(message)\n".utf8))
        return ExitCode.failure
    }
}
