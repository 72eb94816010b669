import Foundation
import Gate

/// The reviewer console's settings (docs/console.md).
struct ConsoleSettings: Sendable {
    /// Where `gmail.send` goes: Google (the default), or the development outbox
    /// (`EMAIL_DELIVERY=outbox`), which keeps each message in Postgres for the console to
    /// show instead of sending it. Never a default: a production server that sent
    /// nothing would look healthy.
    enum EmailDelivery: String, Sendable { case gmail, outbox }

    var emailDelivery: EmailDelivery = .gmail
    var signIn = ConsoleSignIn.Settings()
    /// The console's address as people reach it (`CONSOLE_PUBLIC_URL`), for the links
    /// `gate-api console link` prints; by default this server's own address.
    var publicURL: String?
    /// Sign-in through the company's identity provider; nil: links only.
    var oidc: OIDCSettings?

    static func load(_ env: Environment) throws(ConfigError) -> ConsoleSettings {
        var settings = ConsoleSettings()
        let delivery = env.string("EMAIL_DELIVERY", default: "gmail").lowercased()
        guard let emailDelivery = EmailDelivery(rawValue: delivery) else {
            throw ConfigError(variable: "EMAIL_DELIVERY", problem: "must be gmail or outbox, got \"\(delivery)\"")
        }
        settings.emailDelivery = emailDelivery
        settings.signIn.idleLimit = .seconds(60 * (try env.int("CONSOLE_SESSION_IDLE_MINUTES", default: 30, in: 1...1440)))
        settings.signIn.absoluteLimit = .seconds(3600 * (try env.int("CONSOLE_SESSION_MAX_HOURS", default: 12, in: 1...720)))
        if let url = env.optional("CONSOLE_PUBLIC_URL") {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw ConfigError(variable: "CONSOLE_PUBLIC_URL", problem: "must be an http(s) URL such as https://gate.example.com")
            }
            settings.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let issuer = env.optional("OIDC_ISSUER") {
            guard let url = URL(string: issuer), url.scheme == "https" || url.host == "127.0.0.1" || url.host == "localhost" else {
                throw ConfigError(variable: "OIDC_ISSUER", problem: "must be the provider's https URL (its discovery document is at /.well-known/openid-configuration)")
            }
            var oidc = OIDCSettings(
                issuer: issuer, clientID: try env.required("OIDC_CLIENT_ID"), clientSecret: try env.required("OIDC_CLIENT_SECRET"))
            oidc.workspacesClaim = env.string("OIDC_WORKSPACES_CLAIM", default: "ws")
            oidc.subjectClaim = env.string("OIDC_SUBJECT_CLAIM", default: "sub")
            oidc.scopes = env.string("OIDC_SCOPES", default: "openid profile email")
            guard oidc.scopes.split(separator: " ").contains("openid") else {
                throw ConfigError(variable: "OIDC_SCOPES", problem: "must include openid")
            }
            settings.oidc = oidc
        }
        return settings
    }
}
