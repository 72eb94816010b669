import Actions
import Auth
import Foundation
import Gate
import GateCore
import Logging
import PostgresNIO

/// Console sign-in links and sessions (`console_sign_in_links`, `console_sessions`,
/// migration 0020), stored by the SHA-256 of their secrets.
public struct ConsoleSessionStore: ConsoleSessionStoring {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static func membershipsJSON(_ memberships: [String: Set<Scope>]) -> String {
        JSONValue.object(memberships.mapValues { .array($0.map(\.rawValue).sorted().map(JSONValue.string)) }).jsonText
    }

    static func memberships(_ json: String) -> [String: Set<Scope>] {
        guard case .object(let members)? = try? JSONValue(parsing: json) else { return [:] }
        var memberships: [String: Set<Scope>] = [:]
        for (workspace, value) in members {
            guard case .array(let names) = value else { continue }
            // A scope this server no longer knows is dropped, never widened into another.
            memberships[workspace] = Set(names.compactMap { if case .string(let name) = $0 { Scope(rawValue: name) } else { nil } })
        }
        return memberships
    }

    /// How a session is named in audit rows: a prefix of its id's hash, which cannot be
    /// turned back into the cookie.
    static func reference(_ hash: [UInt8]) -> String { Hex.encode(Array(hash.prefix(8))) }

    public func createLink(tokenHash: [UInt8], identity: ConsoleIdentity, expiresAt: Date, createdBy: String, actor: AuditActor) async throws {
        let logger = self.logger
        try await client.transaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO console_sign_in_links (token_hash, subject, memberships, created_by, expires_at)
                VALUES (\(ByteBuffer(bytes: tokenHash)), \(identity.subject), \(Self.membershipsJSON(identity.memberships))::jsonb,
                        \(createdBy), \(expiresAt))
                """, logger: logger)
            for workspace in identity.memberships.keys.sorted() {
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: workspace, actor: actor, action: "console.sign_in_link_created", targetType: "person",
                        targetID: identity.subject,
                        details: ["scopes": .array((identity.memberships[workspace] ?? []).map(\.rawValue).sorted().map(JSONValue.string)),
                                  "expires_at": .string(RFC3339.format(expiresAt))]),
                    on: connection, logger: logger)
            }
        }
    }

    public func startSession(
        fromLink tokenHash: [UInt8], sessionHash: [UInt8], csrfToken: String, lifetime: Duration, actor: AuditActor
    ) async throws -> Result<ConsoleIdentity, SignInLinkRefusal> {
        let logger = self.logger
        let seconds = Int(lifetime.components.seconds)
        return try await client.transaction(logger: logger) { connection in
            // Locked so that two redemptions of one link cannot both see it unused.
            let rows = try await connection.query(
                """
                SELECT subject, memberships::text, used_at IS NOT NULL, expires_at <= now()
                FROM console_sign_in_links WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) FOR UPDATE
                """, logger: logger)
            var found: (String, String, Bool, Bool)?
            for try await row in rows.decode((String, String, Bool, Bool).self) { found = row }
            guard let (subject, json, used, expired) = found else { return .failure(.unknown) }
            let identity = ConsoleIdentity(subject: subject, memberships: Self.memberships(json))
            // Signed in, the link's holder acts as its person (the link is their credential);
            // a refused link is audited as presented by an anonymous client.
            var person = actor
            person.kind = .user
            person.id = subject
            let refusal: SignInLinkRefusal? = used ? .used : expired ? .expired : nil
            if let refusal {
                for workspace in identity.memberships.keys.sorted() {
                    try await AuditLog.append(
                        AuditEvent(
                            workspaceID: workspace, actor: actor, action: "console.sign_in_refused", targetType: "person",
                            targetID: subject, outcome: .denied, details: ["reason": .string("link_\(refusal.rawValue)")]),
                        on: connection, logger: logger)
                }
                return .failure(refusal)
            }
            try await connection.query(
                "UPDATE console_sign_in_links SET used_at = now() WHERE token_hash = \(ByteBuffer(bytes: tokenHash))", logger: logger)
            try await connection.query(
                """
                INSERT INTO console_sessions (id_hash, subject, memberships, csrf_token, signed_in_with, expires_at)
                VALUES (\(ByteBuffer(bytes: sessionHash)), \(subject), \(json)::jsonb, \(csrfToken), 'link',
                        now() + make_interval(secs => \(seconds)))
                """, logger: logger)
            for workspace in identity.memberships.keys.sorted() {
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: workspace, actor: person, action: "console.signed_in", targetType: "console_session",
                        targetID: Self.reference(sessionHash), details: ["with": .string("link")]),
                    on: connection, logger: logger)
            }
            return .success(identity)
        }
    }

    public func startSession(
        for identity: ConsoleIdentity, sessionHash: [UInt8], csrfToken: String, lifetime: Duration, with method: String, actor: AuditActor
    ) async throws {
        let logger = self.logger
        let seconds = Int(lifetime.components.seconds)
        try await client.transaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO console_sessions (id_hash, subject, memberships, csrf_token, signed_in_with, expires_at)
                VALUES (\(ByteBuffer(bytes: sessionHash)), \(identity.subject), \(Self.membershipsJSON(identity.memberships))::jsonb,
                        \(csrfToken), \(method), now() + make_interval(secs => \(seconds)))
                """, logger: logger)
            for workspace in identity.memberships.keys.sorted() {
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: workspace, actor: actor, action: "console.signed_in", targetType: "console_session",
                        targetID: Self.reference(sessionHash), details: ["with": .string(method)]),
                    on: connection, logger: logger)
            }
        }
    }

    public func beginOIDCLogin(stateHash: [UInt8], nonce: String, codeVerifier: String, expiresAt: Date) async throws {
        try await client.query(
            """
            INSERT INTO console_oidc_logins (state_hash, nonce, code_verifier, expires_at)
            VALUES (\(ByteBuffer(bytes: stateHash)), \(nonce), \(codeVerifier), \(expiresAt))
            """, logger: logger)
    }

    public func finishOIDCLogin(stateHash: [UInt8]) async throws -> (nonce: String, codeVerifier: String)? {
        let rows = try await client.query(
            """
            DELETE FROM console_oidc_logins WHERE state_hash = \(ByteBuffer(bytes: stateHash))
            RETURNING nonce, code_verifier, expires_at > now()
            """, logger: logger)
        for try await (nonce, verifier, live) in rows.decode((String, String, Bool).self) where live { return (nonce, verifier) }
        return nil
    }

    /// Deletes up to `batch` rows of each kind that can no longer sign anybody in: links
    /// and provider sign-ins past their expiry, sessions a day after they ended or
    /// expired (kept that long so a just-ended session is still explained). Returns how many.
    public func purgeEnded(batch: Int) async throws -> Int {
        let rows = try await client.query(
            """
            WITH links AS (
                DELETE FROM console_sign_in_links WHERE token_hash IN (
                    SELECT token_hash FROM console_sign_in_links WHERE expires_at < now() LIMIT \(batch))
                RETURNING 1),
            logins AS (
                DELETE FROM console_oidc_logins WHERE state_hash IN (
                    SELECT state_hash FROM console_oidc_logins WHERE expires_at < now() LIMIT \(batch))
                RETURNING 1),
            sessions AS (
                DELETE FROM console_sessions WHERE id_hash IN (
                    SELECT id_hash FROM console_sessions
                    WHERE expires_at < now() - interval '1 day' OR ended_at < now() - interval '1 day' LIMIT \(batch))
                RETURNING 1)
            SELECT ((SELECT count(*) FROM links) + (SELECT count(*) FROM logins) + (SELECT count(*) FROM sessions))::int
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    public func findSession(idHash: [UInt8], idleLimit: Duration) async throws -> ConsoleSession? {
        let idle = Int(idleLimit.components.seconds)
        let rows = try await client.query(
            """
            SELECT subject, memberships::text, csrf_token, created_at, last_seen_at, expires_at FROM console_sessions
            WHERE id_hash = \(ByteBuffer(bytes: idHash)) AND ended_at IS NULL AND expires_at > now()
              AND last_seen_at > now() - make_interval(secs => \(idle))
            """, logger: logger)
        for try await (subject, json, csrf, created, seen, expires) in rows.decode((String, String, String, Date, Date, Date).self) {
            return ConsoleSession(
                identity: ConsoleIdentity(subject: subject, memberships: Self.memberships(json)), csrfToken: csrf,
                createdAt: created, lastSeenAt: seen, expiresAt: expires)
        }
        return nil
    }

    public func touchSession(idHash: [UInt8]) async throws {
        try await client.query(
            "UPDATE console_sessions SET last_seen_at = now() WHERE id_hash = \(ByteBuffer(bytes: idHash)) AND ended_at IS NULL",
            logger: logger)
    }

    public func endSession(idHash: [UInt8], actor: AuditActor) async throws -> Bool {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE console_sessions SET ended_at = now() WHERE id_hash = \(ByteBuffer(bytes: idHash)) AND ended_at IS NULL
                RETURNING memberships::text
                """, logger: logger)
            var ended: String?
            for try await json in rows.decode(String.self) { ended = json }
            guard let ended else { return false }
            for workspace in Self.memberships(ended).keys.sorted() {
                try await AuditLog.append(
                    AuditEvent(
                        workspaceID: workspace, actor: actor, action: "console.signed_out", targetType: "console_session",
                        targetID: Self.reference(idHash)),
                    on: connection, logger: logger)
            }
            return true
        }
    }
}
