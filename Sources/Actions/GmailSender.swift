import Crypto
import Foundation
import GateCore

/// The outcome of a `gmail.send` job.
public struct GmailSendResult: Sendable, Equatable {
    /// Gmail's id of the sent message.
    public let messageID: String
    public let threadID: String?
    /// The message's RFC 5322 Message-ID with its angle brackets, e.g. `<job_01J…@gateapi.invalid>`.
    public let rfc822MessageID: String
    /// True when an earlier attempt had already sent it and nothing was sent now.
    public let alreadySent: Bool

    public init(messageID: String, threadID: String?, rfc822MessageID: String, alreadySent: Bool) {
        self.messageID = messageID
        self.threadID = threadID
        self.rfc822MessageID = rfc822MessageID
        self.alreadySent = alreadySent
    }
}

/// Executes one `gmail.send` job: renders the message the reviewer approved, with a
/// Message-ID derived from the job id, asks Gmail whether an earlier attempt already
/// sent it, gets an access token, sends, and after a 401 refreshes the token and tries
/// once more. Throws `ExecutionFailure` (or `CancellationError` on shutdown).
public struct GmailSender: Sendable {
    public struct Configuration: Sendable {
        public static let defaultMessageIDDomain = "gateapi.invalid"

        /// The right-hand side of generated Message-IDs. `.invalid` is reserved and never
        /// resolves; a domain of your own looks less odd to spam filters.
        public var messageIDDomain: String
        /// The least wait before retrying a send that may have reached Gmail (timeout,
        /// lost connection, 5xx, unreadable answer): the retry searches for the message,
        /// and Gmail's search needs a moment to see a message just sent.
        public var maybeSentRetryDelay: Duration

        public init(messageIDDomain: String = defaultMessageIDDomain, maybeSentRetryDelay: Duration = .seconds(30)) {
            self.messageIDDomain = messageIDDomain
            self.maybeSentRetryDelay = maybeSentRetryDelay
        }

        /// `GMAIL_MESSAGE_ID_DOMAIN` (default `gateapi.invalid`).
        public static func fromEnvironment(
            _ environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws(GoogleConfigurationError) -> Configuration {
            let domain = environment["GMAIL_MESSAGE_ID_DOMAIN"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultMessageIDDomain
            guard GmailSender.isDotAtom(domain) else {
                throw GoogleConfigurationError(variable: "GMAIL_MESSAGE_ID_DOMAIN", reason: "must be a domain name like mail.example.com")
            }
            return Configuration(messageIDDomain: domain)
        }
    }

    private let client: GmailClient
    private let tokens: GoogleTokenProvider
    private let configuration: Configuration
    private let now: @Sendable () -> Date

    public init(
        client: GmailClient, tokens: GoogleTokenProvider, configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.tokens = tokens
        self.configuration = configuration
        self.now = now
    }

    /// Sends `email` for job `jobID`. Before sending, Gmail is searched for the job's
    /// Message-ID when `checkAlreadySent` or `mayHaveDelivered` is true or `attempt` > 1:
    /// an earlier attempt may have sent the message and then lost the answer (timeout,
    /// 5xx after delivery, crash, expired lease), so a retry never sends blindly. A first
    /// attempt skips the search unless told otherwise.
    ///
    /// `mayHaveDelivered` says whether an earlier attempt really let a send request leave
    /// (nil: assume so whenever there is a search). If it did and Gmail refuses the
    /// search (403: the credential lacks a read scope), nothing is sent and the failure
    /// is `.deliveryUnknown`; if it did not, the search was a precaution, and the message
    /// is sent. `beforeSending` runs (and must succeed) right before the send request
    /// leaves: the caller records there, durably, that delivery may have started.
    public func send(
        _ email: GmailSend, workspaceID: String, credentials: GoogleCredentials, jobID: String, attempt: Int,
        checkAlreadySent: Bool, mayHaveDelivered: Bool? = nil, beforeSending: @Sendable () async throws -> Void = {}
    ) async throws -> GmailSendResult {
        do {
            _ = try credentials.validated()
        } catch {
            throw ExecutionFailure.permanent("credentials_invalid", error.description)
        }
        let messageID = Self.messageID(jobID: jobID, domain: configuration.messageIDDomain)
        let rfc822MessageID = "<\(messageID)>"

        if checkAlreadySent || attempt > 1 || mayHaveDelivered == true {
            var found: GmailSentMessage?
            do {
                found = try await withFreshTokenOn401(workspaceID, credentials) { token in
                    try await client.findSentMessage(rfc822MessageID: messageID, accessToken: token)
                }
            } catch let failure as ExecutionFailure where failure.code == "gmail_forbidden" {
                // If an earlier send may have left, sending again could send twice; if
                // none did, the search was only a precaution.
                guard mayHaveDelivered == false else {
                    throw ExecutionFailure(
                        kind: .deliveryUnknown, code: "delivery_unknown",
                        message: "an earlier attempt may have sent the message, and Gmail refused the search that would tell "
                            + "(it needs the gmail.readonly scope: \(failure.message)); an admin must confirm a resend")
                }
                found = nil
            }
            if let found {
                return GmailSendResult(
                    messageID: found.id, threadID: found.threadID, rfc822MessageID: rfc822MessageID, alreadySent: true)
            }
        }

        let raw = MIMEMessage(email: email).render(
            date: now(), messageID: messageID, boundary: Self.boundary(jobID: jobID))
        let sent: GmailSentMessage
        do {
            sent = try await withFreshTokenOn401(workspaceID, credentials) { token in
                // With a token in hand, just before the request leaves.
                try await beforeSending()
                return try await client.send(raw: raw, accessToken: token, upload: !email.files.isEmpty)
            }
        } catch let failure as ExecutionFailure where failure.isRetryable && Self.maybeSentCodes.contains(failure.code) {
            let wait = max(failure.retryAfter ?? .zero, configuration.maybeSentRetryDelay)
            throw ExecutionFailure(
                kind: .retryable, code: failure.code, message: failure.message, retryAfter: wait,
                slowsDownCredential: failure.slowsDownCredential)
        }
        return GmailSendResult(messageID: sent.id, threadID: sent.threadID, rfc822MessageID: rfc822MessageID, alreadySent: false)
    }

    /// Runs `operation` with an access token; after a 401, refresh credentials get one
    /// fresh token and one more try. A 401 that remains (or a static token that Gmail
    /// refuses) is permanent: retrying later cannot fix it, reconnecting the account can.
    /// A 401 means Gmail did nothing, so repeating a send here cannot send twice.
    private func withFreshTokenOn401<T: Sendable>(
        _ workspaceID: String, _ credentials: GoogleCredentials,
        _ operation: (String) async throws -> T
    ) async throws -> T {
        let token = try await tokens.accessToken(workspaceID: workspaceID, credentials: credentials)
        do {
            return try await operation(token)
        } catch let failure as ExecutionFailure where failure.code == "gmail_unauthorized" {
            guard credentials.canRefresh else {
                throw ExecutionFailure.permanent(
                    "gmail_unauthorized", "Gmail refused the stored access token (HTTP 401); it may have expired")
            }
            await tokens.invalidate(workspaceID: workspaceID, credentials: credentials, rejectedToken: token)
            let fresh = try await tokens.accessToken(workspaceID: workspaceID, credentials: credentials)
            do {
                return try await operation(fresh)
            } catch let again as ExecutionFailure where again.code == "gmail_unauthorized" {
                await tokens.invalidate(workspaceID: workspaceID, credentials: credentials, rejectedToken: fresh)
                throw ExecutionFailure.permanent(
                    "gmail_unauthorized", "Gmail refused a freshly refreshed access token (HTTP 401); check the OAuth scopes")
            }
        }
    }

    /// Failures of a send after which the message may nevertheless have been sent.
    static let maybeSentCodes: Set = ["timeout", "connection_failed", "gmail_unavailable", "gmail_bad_response"]

    /// `jobID@domain`; a job id that is not a dot-atom (it always is for GateAPI's ids) is
    /// replaced by its SHA-256 so the header stays valid.
    public static func messageID(jobID: String, domain: String = Configuration.defaultMessageIDDomain) -> String {
        let left = isDotAtom(jobID) && jobID.utf8.count <= 128 ? jobID : "job-" + hex(SHA256.hash(data: Data(jobID.utf8)))
        return "\(left)@\(domain)"
    }

    /// Deterministic per job, so every attempt renders the same bytes apart from Date.
    /// `-` is not in the base64 alphabet, so the base64 bodies can never contain it.
    public static func boundary(jobID: String) -> String {
        "gateapi-alt-" + hex(SHA256.hash(data: Data("boundary:\(jobID)".utf8))).prefix(32)
    }

    static func isDotAtom(_ text: String) -> Bool {
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return !text.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(atext.contains) }
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        Hex.encode(digest)
    }
}
