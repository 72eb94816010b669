import Actions
import ArgumentParser
import Foundation
import Gate
import GateCore
import Logging
import Persistence
import PostgresNIO

/// The shell's way to a workspace's reviewer directory (the same rules and audit rows
/// as `/v1/workspaces/{ws}/reviewers`, actor type `cli`).
struct ReviewersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reviewers", abstract: "Manage a workspace's reviewer directory (people, their email, Slack id and groups).",
        subcommands: [Put.self, List.self, Remove.self, Delegate.self])

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a person or replace their entry.")

        @Option(help: "Workspace id.")
        var workspace: String
        @Argument(help: "The person's id: the `sub` of their tokens and console sign-ins.")
        var person: String
        @Option(help: "Their email address.")
        var email: String
        @Option(help: "Their name as people read it.")
        var name: String?
        @Option(help: "Their Slack member id (U…).")
        var slack: String?
        @Option(name: .customLong("group"), help: "A group they belong to (repeat for several).")
        var groups: [String] = []
        @Flag(help: "Do not announce approvals to them.")
        var noNotify = false

        func run() async throws {
            var body: [String: JSONValue] = [
                "email": .string(email), "groups": .array(groups.map(JSONValue.string)), "notify": .bool(!noNotify),
            ]
            if let name { body["display_name"] = .string(name) }
            if let slack { body["slack_user_id"] = .string(slack) }
            let (config, logger) = try Startup.configure()
            let entry = try await ReviewersCommand.run(config, logger) { [workspace, person, body] directory in
                try await directory.put(person, body, in: workspace, actor: Startup.cliActor)
            }
            print("\(entry.person) <\(entry.email)>\(entry.groups.isEmpty ? "" : " in " + entry.groups.joined(separator: ", "))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the directory.")

        @Option(help: "Workspace id.")
        var workspace: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let entries = try await ReviewersCommand.run(config, logger) { [workspace] directory in
                try await directory.list(in: workspace)
            }
            for entry in entries {
                let groups = entry.groups.isEmpty ? "" : " [\(entry.groups.joined(separator: ", "))]"
                let delegation = entry.delegation.map { " → \($0.delegate) \(RFC3339.format($0.from)) – \(RFC3339.format($0.until))" } ?? ""
                print("\(entry.person) <\(entry.email)>\(groups)\(entry.notify ? "" : " (not notified)")\(delegation)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a person from the directory.")

        @Option(help: "Workspace id.")
        var workspace: String
        @Argument(help: "The person's id.")
        var person: String

        func run() async throws {
            let (config, logger) = try Startup.configure()
            let removed = try await ReviewersCommand.run(config, logger) { [workspace, person] directory in
                try await directory.remove(person, in: workspace, actor: Startup.cliActor)
            }
            guard removed else { throw Startup.fail("\(workspace)'s directory has no \(person)") }
            print("\(person) removed")
        }
    }

    struct Delegate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Name a reviewer's delegate for a period (out of office), or end it with --end.")

        @Option(help: "Workspace id.")
        var workspace: String
        @Argument(help: "The reviewer's person id.")
        var person: String
        @Option(help: "The delegate's person id (in the directory).")
        var to: String?
        @Option(help: "When it starts (RFC 3339; default now).")
        var from: String?
        @Option(help: "When it ends (RFC 3339, e.g. 2026-12-24T00:00:00Z).")
        var until: String?
        @Flag(help: "End the delegation now.")
        var end = false

        func run() async throws {
            var body: [String: JSONValue]?
            if !end {
                guard let to, let until else { throw Startup.fail("give --to and --until, or --end") }
                body = ["delegate": .string(to), "until": .string(until)]
                if let from { body?["from"] = .string(from) }
            }
            let (config, logger) = try Startup.configure()
            let outcome = try await withRunningPostgres(config.database, logger: logger) { [workspace, person, body] client in
                do {
                    return try await DelegateReviews(store: ReviewerDirectoryStore(client: client, logger: logger))(
                        person, body, in: workspace, by: DelegateReviews.Requester(person: nil, isAdmin: true), actor: Startup.cliActor,
                        audit: OperatorAuditTrail(client: client, logger: logger))
                } catch let invalid as ValidationFailure {
                    throw Startup.fail(invalid.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
                }
            }
            switch outcome {
            case .changed(let entry):
                if let delegation = entry.delegation {
                    print("\(person) → \(delegation.delegate) from \(RFC3339.format(delegation.from)) until \(RFC3339.format(delegation.until))")
                } else {
                    print("\(person) has no delegate")
                }
            case .noReviewer: throw Startup.fail("\(workspace)'s directory has no \(person)")
            case .unknownDelegate: throw Startup.fail("\(to ?? "") is not in \(workspace)'s directory: add them first")
            case .notAllowed: throw Startup.fail("not allowed")
            }
        }
    }

    /// The use case on the operator's connection, its refusals in words.
    static func run<T: Sendable>(
        _ config: AppConfig, _ logger: Logger, _ body: @escaping @Sendable (ManageReviewerDirectory) async throws -> T
    ) async throws -> T {
        do {
            return try await withRunningPostgres(config.database, logger: logger) { client in
                try await body(ManageReviewerDirectory(store: ReviewerDirectoryStore(client: client, logger: logger)))
            }
        } catch let invalid as ValidationFailure {
            throw Startup.fail(invalid.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            throw Startup.fail("no such workspace")
        }
    }
}
