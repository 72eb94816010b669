import ArgumentParser
import Gate
import NIOCore
import Foundation
import GateCore
import Logging
import Persistence
import PostgresNIO

/// The audit log from the shell: the same export and check as the API.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Export and verify a workspace's audit log.", subcommands: [Export.self, Verify.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stream the sealed audit log (recorded as an audit.exported event first).")
        @Option(name: .shortAndLong, help: "Workspace id.")
        var workspace: String
        @Option(help: "jsonl or csv.")
        var format: String = "jsonl"
        @Option(help: "Only events at or after this RFC 3339 time.")
        var from: String?
        @Option(help: "Only events before this RFC 3339 time.")
        var to: String?
        @Option(name: .shortAndLong, help: "Write to this file (created with mode 0600) instead of standard output.")
        var output: String?

        func run() async throws {
            let (config, logger) = try Startup.configure()
            guard let format = AuditFormat(rawValue: format) else { throw Startup.fail("--format must be jsonl or csv") }
            var filter = AuditFilter()
            for (name, value) in [("from", from), ("to", to)] {
                guard let value else { continue }
                guard let utc = RFC3339Text.utc(value) else { throw Startup.fail("--\(name) must be an RFC 3339 timestamp") }
                if name == "from" { filter.from = utc } else { filter.to = utc }
            }
            let sink: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o600]),
                    let handle = FileHandle(forWritingAtPath: output)
                else { throw Startup.fail("cannot write \(output)") }
                sink = handle
            } else {
                sink = FileHandle.standardOutput
            }
            let workspace = self.workspace
            let range = filter
            do {
                let count = try await withRunningPostgres(config.database, logger: logger) { client in
                    guard try await WorkspaceStore(client: client, logger: logger).find(id: workspace) != nil else {
                        throw Startup.fail("no workspace \(workspace)")
                    }
                    let export = try await ReadAuditLog(store: AuditStore(client: client, logger: logger)).beginExport(
                        workspaceID: workspace, format: format.rawValue, filter: range, actor: Startup.cliActor,
                        trail: OperatorAuditTrail(client: client, logger: logger))
                    if !format.header.isEmpty { try sink.write(contentsOf: Data(format.header.utf8)) }
                    return try await export.stream { batch in try sink.write(contentsOf: format.encode(batch).readableBytesView) }
                }
                try sink.synchronize()
                if output != nil { FileHandle.standardError.write(Data("exported \(count) events to \(output!)\n".utf8)) }
            } catch let error as ExitCode {
                throw error
            } catch {
                throw Startup.fail("export failed: \(describe(error))")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the workspace's hash chain; exit status 1 when it is broken.")
        @Option(name: .shortAndLong, help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let workspace = self.workspace
            let result: AuditVerification
            do {
                result = try await withRunningPostgres(config.database, logger: logger) { client in
                    try await ReadAuditLog(store: AuditStore(client: client, logger: logger)).verify(workspaceID: workspace)
                }
            } catch {
                throw Startup.fail("verify failed: \(describe(error))")
            }
            print(AuditController.verificationJSON(result).jsonText)
            if !result.ok { throw ExitCode.failure }
        }
    }
}

/// What the operator does from the shell, audited directly (no request to charge).
struct OperatorAuditTrail: AuditTrail {
    let client: PostgresClient
    let logger: Logger

    func record(_ event: AuditEvent) async throws {
        try await AuditLog.record(event, client: client, logger: logger)
    }
}
