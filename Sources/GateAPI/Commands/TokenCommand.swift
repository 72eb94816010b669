import ArgumentParser
import Auth
import Foundation
import JWTKit

/// Development tokens signed with JWT_SECRET; production tokens come from the
/// company's identity provider.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Development JWTs.", subcommands: [Mint.self])

    struct Mint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mint an HS256 token with JWT_SECRET.")
        @Option(help: "The subject (a person's id).")
        var sub: String
        @Option(name: .customLong("ws"), help: "workspace=scope,scope (repeatable), e.g. acme=approvals:read,approvals:decide")
        var workspaces: [String]
        @Option(help: "Lifetime in seconds.")
        var ttl: Int = 3600

        func run() async throws {
            let (config, _) = try Startup.configure()
            guard let secret = config.jwt.hmacSecret else { throw Startup.fail("JWT_SECRET is not set") }
            let claim = try Startup.workspaceScopes(workspaces).mapValues { $0.map(\.rawValue).sorted() }
            guard Double(ttl) <= config.jwt.maxLifetimeSeconds else {
                throw Startup.fail("--ttl is longer than JWT_MAX_LIFETIME_SECONDS (\(Int(config.jwt.maxLifetimeSeconds)))")
            }
            let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            let claims = MintedClaims(
                subject: sub, issuer: config.jwt.issuer, audience: config.jwt.audience, workspaces: claim,
                lifetime: Double(ttl))
            print(try await keys.sign(claims, header: ["typ": "JWT"]))
        }
    }
}
