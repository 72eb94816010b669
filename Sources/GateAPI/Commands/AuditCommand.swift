import ArgumentParser
import Gate
import NIOCore
import Foundation
import GateCore
import Persistence

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
                    try await AuditLog.record(
                        AuditEvent(
                            workspaceID: workspace, actor: Startup.cliActor, action: "audit.exported", targetType: "audit_log",
                            targetID: workspace, details: AuditController.exportDetails(format: format, filter: range)),
                        client: client, logger: logger)
                    let store = AuditStore(client: client, logger: logger)
                    try await store.sealCommitted(workspaceID: workspace)
                    if !format.header.isEmpty { try sink.write(contentsOf: Data(format.header.utf8)) }
                    return try await store.export(workspaceID: workspace, filter: range) { batch in
                        try sink.write(contentsOf: format.encode(batch).readableBytesView)
                    }
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
                    let store = AuditStore(client: client, logger: logger)
                    try await store.sealCommitted(workspaceID: workspace)
                    return try await store.verify(workspaceID: workspace)
                }
            } catch {
                throw Startup.fail("verify failed: \(describe(error))")
            }
            print(AuditController.verificationJSON(result).jsonText)
            if !result.ok { throw ExitCode.failure }
        }
    }
}
