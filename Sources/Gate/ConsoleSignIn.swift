import Auth
import Crypto
import Foundation
import GateCore

/// Who a console sign-in lets in: a person (the same id as a JWT's `sub`) and their
/// scopes per workspace, exactly as a JWT's `ws` claim grants them.
public struct ConsoleIdentity: Sendable, Equatable {
    public let subject: String
    public let memberships: [String: Set<Scope>]

    public init(subject: String, memberships: [String: Set<Scope>]) {
        self.subject = subject
        self.memberships = memberships
    }

    /// The same principal a JWT with these claims authenticates as: every console
    /// action is the API's use case with this person as the actor.
    public var principal: Principal { Principal(kind: .user, id: subject, workspaces: memberships) }
}

/// A signed-in person, as the server keeps it (the browser holds only the session's
/// random id, which is stored hashed).
public struct ConsoleSession: Sendable, Equatable {
    public let identity: ConsoleIdentity
    /// Every form carries it back; compared in constant time.
    public let csrfToken: String
    public let createdAt: Date
    public let lastSeenAt: Date
    public let expiresAt: Date

    public init(identity: ConsoleIdentity, csrfToken: String, createdAt: Date, lastSeenAt: Date, expiresAt: Date) {
        self.identity = identity
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
    }
}

/// Why a sign-in link let nobody in. A used or expired link's refusal is audited in
/// its workspaces; an unknown one has none to be audited in.
public enum SignInLinkRefusal: String, Error, Sendable {
    case unknown, used, expired
}

/// Where console sign-ins and sessions are kept (Persistence: `ConsoleSessionStore`).
/// Secrets arrive hashed (SHA-256); the store never sees a link or session id.
public protocol ConsoleSessionStoring: Sendable {
    func createLink(tokenHash: [UInt8], identity: ConsoleIdentity, expiresAt: Date, createdBy: String, actor: AuditActor) async throws
    /// Marks the link used and starts the session in one transaction, audited as
    /// `console.signed_in` in each of the person's workspaces; a refusal is audited too.
    func startSession(
        fromLink tokenHash: [UInt8], sessionHash: [UInt8], csrfToken: String, lifetime: Duration, actor: AuditActor
    ) async throws -> Result<ConsoleIdentity, SignInLinkRefusal>
    /// A session for a person the identity provider vouched for (`with`: how), audited
    /// as `console.signed_in` in each of their workspaces.
    func startSession(
        for identity: ConsoleIdentity, sessionHash: [UInt8], csrfToken: String, lifetime: Duration, with method: String, actor: AuditActor
    ) async throws
    /// Remembers an OpenID Connect sign-in under way until `expiresAt`.
    func beginOIDCLogin(stateHash: [UInt8], nonce: String, codeVerifier: String, expiresAt: Date) async throws
    /// Takes it back (once): its nonce and PKCE verifier; nil if unknown, used or expired.
    func finishOIDCLogin(stateHash: [UInt8]) async throws -> (nonce: String, codeVerifier: String)?
    /// The session if it is neither ended, past its absolute limit, nor idle longer than `idleLimit`.
    func findSession(idHash: [UInt8], idleLimit: Duration) async throws -> ConsoleSession?
    func touchSession(idHash: [UInt8]) async throws
    /// Ends it (audited as `console.signed_out`); false if it had already ended.
    func endSession(idHash: [UInt8], actor: AuditActor) async throws -> Bool
}

/// Console sign-in (issue 25): single-use development links and server-side sessions.
public struct ConsoleSignIn: Sendable {
    public struct Settings: Sendable {
        public var idleLimit: Duration
        public var absoluteLimit: Duration
        public init(idleLimit: Duration = .seconds(30 * 60), absoluteLimit: Duration = .seconds(12 * 3600)) {
            self.idleLimit = idleLimit
            self.absoluteLimit = absoluteLimit
        }
    }

    /// A session whose last request is older than this is marked seen again: reading
    /// pages writes a row at most once a minute per person, not once per request.
    public static let touchInterval: TimeInterval = 60
    /// Links and session ids: 32 random base32 characters (160 bits) after a prefix.
    static let linkPrefix = "gsl_"
    static let sessionPrefix = "gss_"

    let store: any ConsoleSessionStoring
    public let settings: Settings

    public init(store: any ConsoleSessionStoring, settings: Settings) {
        self.store = store
        self.settings = settings
    }

    static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// A new single-use link's secret (shown once, stored hashed).
    public func makeLink(for identity: ConsoleIdentity, lifetime: Duration, createdBy: String, actor: AuditActor) async throws -> String {
        let token = Self.linkPrefix + Base32.random(count: 32)
        let expiresAt = Date().addingTimeInterval(TimeInterval(lifetime.components.seconds))
        try await store.createLink(tokenHash: Self.hash(token), identity: identity, expiresAt: expiresAt, createdBy: createdBy, actor: actor)
        return token
    }

    /// Redeems a link: the new session's id (for the cookie) and who signed in.
    public func redeem(link: String, actor: AuditActor) async throws -> Result<(sessionID: String, identity: ConsoleIdentity), SignInLinkRefusal> {
        guard link.hasPrefix(Self.linkPrefix), link.utf8.count == Self.linkPrefix.utf8.count + 32,
              Base32.isValid(String(link.dropFirst(Self.linkPrefix.count)))
        else { return .failure(.unknown) }
        let sessionID = Self.sessionPrefix + Base32.random(count: 32)
        let started = try await store.startSession(
            fromLink: Self.hash(link), sessionHash: Self.hash(sessionID), csrfToken: Base32.random(count: 32),
            lifetime: settings.absoluteLimit, actor: actor)
        return started.map { (sessionID, $0) }
    }

    /// The live session a cookie names, moved forward when last seen over a minute ago.
    public func session(_ sessionID: String) async throws -> ConsoleSession? {
        guard sessionID.hasPrefix(Self.sessionPrefix), sessionID.utf8.count == Self.sessionPrefix.utf8.count + 32 else { return nil }
        let hash = Self.hash(sessionID)
        guard let session = try await store.findSession(idHash: hash, idleLimit: settings.idleLimit) else { return nil }
        if Date().timeIntervalSince(session.lastSeenAt) > Self.touchInterval { try await store.touchSession(idHash: hash) }
        return session
    }

    /// An OpenID Connect sign-in under way: `state` (also kept by the browser in a
    /// cookie), `nonce` (which the ID token must carry) and the PKCE verifier.
    public struct OIDCLogin: Sendable {
        public let state: String
        public let nonce: String
        public let codeVerifier: String
        /// `BASE64URL(SHA256(verifier))` (RFC 7636 S256).
        public var codeChallenge: String {
            Data(SHA256.hash(data: Array(codeVerifier.utf8))).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
    }

    /// How long a person may take at the identity provider.
    public static let oidcLoginLifetime: TimeInterval = 600

    public func beginOIDCLogin() async throws -> OIDCLogin {
        // 43+ characters from the unreserved set, as RFC 7636 asks of a verifier.
        let login = OIDCLogin(state: Base32.random(count: 32), nonce: Base32.random(count: 32), codeVerifier: Base32.random(count: 64))
        try await store.beginOIDCLogin(
            stateHash: Self.hash(login.state), nonce: login.nonce, codeVerifier: login.codeVerifier,
            expiresAt: Date().addingTimeInterval(Self.oidcLoginLifetime))
        return login
    }

    public func finishOIDCLogin(state: String) async throws -> (nonce: String, codeVerifier: String)? {
        guard state.utf8.count == 32, Base32.isValid(state) else { return nil }
        return try await store.finishOIDCLogin(stateHash: Self.hash(state))
    }

    /// Starts a session for a person the identity provider vouched for; the session's id.
    public func startSession(for identity: ConsoleIdentity, with method: String, actor: AuditActor) async throws -> String {
        let sessionID = Self.sessionPrefix + Base32.random(count: 32)
        try await store.startSession(
            for: identity, sessionHash: Self.hash(sessionID), csrfToken: Base32.random(count: 32), lifetime: settings.absoluteLimit,
            with: method, actor: actor)
        return sessionID
    }

    public func signOut(_ sessionID: String, actor: AuditActor) async throws {
        _ = try await store.endSession(idHash: Self.hash(sessionID), actor: actor)
    }

    /// The CSRF check of every console form.
    public static func csrfMatches(_ presented: String?, _ session: ConsoleSession) -> Bool {
        guard let presented else { return false }
        return constantTimeEquals(Array(presented.utf8), Array(session.csrfToken.utf8))
    }
}
