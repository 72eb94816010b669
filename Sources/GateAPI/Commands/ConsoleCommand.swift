import ArgumentParser
import GateCore
import Auth
import Gate
import Persistence

/// `gate-api console link`: a single-use, short-lived sign-in link to the reviewer
/// console (development, and operators letting someone in without an identity provider).
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "The reviewer console.", subcommands: [Link.self])

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a single-use sign-in link to the console.")
        @Option(help: "The person (the id a JWT's sub or the identity provider gives them).")
        var sub: String
        @Option(name: .customLong("ws"), help: "workspace=scope,scope (repeatable), e.g. acme=approvals:read,approvals:decide")
        var workspaces: [String]
        @Option(help: "How long the link stays usable, in seconds (at most a day).")
        var ttl: Int = 900

        func run() async throws {
            let (config, logger) = try Startup.configure()
            guard (1...255).contains(sub.count), !sub.containsControlCharacters else { throw Startup.fail("--sub must be 1 to 255 characters") }
            guard (60...86400).contains(ttl) else { throw Startup.fail("--ttl must be from 60 to 86400 seconds") }
            let memberships = try Startup.workspaceScopes(workspaces)
            guard !memberships.isEmpty else { throw Startup.fail("name at least one workspace with --ws") }
            let identity = ConsoleIdentity(subject: sub, memberships: memberships)
            let token: String
            do {
                token = try await withRunningPostgres(config.database, logger: logger) { client in
                    let known = KnownWorkspaces(store: WorkspaceStore(client: client, logger: logger))
                    for workspace in identity.memberships.keys.sorted() where try await !known.exists(workspace) {
                        throw Startup.fail("there is no workspace \(workspace)")
                    }
                    let signIn = ConsoleSignIn(store: ConsoleSessionStore(client: client, logger: logger), settings: config.console.signIn)
                    return try await signIn.makeLink(
                        for: identity, lifetime: .seconds(ttl), createdBy: Startup.cliActor.id ?? "operator", actor: Startup.cliActor)
                }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                throw Startup.fail("cannot reach Postgres: \(describe(error))")
            }
            let base = config.console.publicURL ?? "http://\(config.host.contains(":") ? "[\(config.host)]" : config.host):\(config.port)"
            print("\(base)/console/signin?link=\(token)")
        }
    }
}
