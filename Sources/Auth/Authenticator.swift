import Foundation
import Logging

/// A credential was refused. `reason` goes to the audit log; the client only learns
/// that authentication failed.
public struct AuthenticationFailure: Error, Equatable, Sendable {
    public let reason: String
    /// The key id or JWT subject the caller claimed, when it could be read.
    public let claimedID: String?
}

/// Turns a presented credential (API key or JWT) into a `Principal`.
public final class Authenticator: Sendable {
    private let keys: any APIKeyLookup
    private let jwt: JWTVerifier
    private let logger: Logger
    /// `last_used_at` is written at most this often per key, not on every request.
    static let lastUsedResolution: TimeInterval = 60

    public init(keys: any APIKeyLookup, jwt: JWTVerifier, logger: Logger) {
        self.keys = keys
        self.jwt = jwt
        self.logger = logger
    }

    /// Throws `AuthenticationFailure` for a bad credential; any other error (the
    /// database is down) is an outage, not a verdict on the caller.
    public func authenticate(_ credential: String, now: Date = Date()) async throws -> Principal {
        if APIKeyToken.looksLikeKey(credential) {
            return try await authenticateKey(credential, now: now)
        }
        do {
            return try await jwt.verify(credential, now: now)
        } catch {
            throw AuthenticationFailure(reason: error.reason, claimedID: nil)
        }
    }

    private func authenticateKey(_ credential: String, now: Date) async throws -> Principal {
        // Malformed or mistyped keys (checksum) are refused without a database lookup.
        guard let token = APIKeyToken(parsing: credential) else {
            throw AuthenticationFailure(reason: "key_malformed", claimedID: nil)
        }
        guard let record = try await keys.find(id: token.id) else {
            throw AuthenticationFailure(reason: "key_unknown", claimedID: token.id)
        }
        let presented = token.hash
        let current = constantTimeEquals(presented, record.secretHash)
        let previous = record.previousSecretHash.map { constantTimeEquals(presented, $0) } ?? false
        guard current || previous else {
            throw AuthenticationFailure(reason: "key_secret_mismatch", claimedID: token.id)
        }
        if previous && !current {
            guard let until = record.previousSecretExpiresAt, now < until else {
                throw AuthenticationFailure(reason: "key_rotated_out", claimedID: token.id)
            }
        }
        if record.revokedAt != nil { throw AuthenticationFailure(reason: "key_revoked", claimedID: token.id) }
        if let expiresAt = record.expiresAt, now >= expiresAt {
            throw AuthenticationFailure(reason: "key_expired", claimedID: token.id)
        }
        if record.lastUsedAt.map({ now.timeIntervalSince($0) >= Self.lastUsedResolution }) ?? true {
            let keys = self.keys
            let logger = self.logger
            Task {
                do { try await keys.touchLastUsed(id: record.id) } catch {
                    logger.debug("last_used_at not updated", metadata: ["key_id": "\(record.id)"])
                }
            }
        }
        return Principal(
            kind: .apiKey, id: record.id, workspaces: [record.workspaceID: record.scopes], actsFor: record.actsFor,
            presentedPreviousSecret: !current)
    }
}
