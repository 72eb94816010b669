import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Hands out Google access tokens for a workspace's credentials. A static access token
/// is returned as it is; refresh credentials are exchanged at the token endpoint and
/// the result cached until shortly before it expires. Concurrent callers for the same
/// credentials share one exchange (Google rate-limits the token endpoint, and a burst
/// of jobs must not mint a burst of tokens). Cache keys are SHA-256 fingerprints, so
/// the raw refresh token and client secret are never kept as keys.
public actor GoogleTokenProvider {
    public struct Configuration: Sendable {
        public static let defaultTokenURL = "https://oauth2.googleapis.com/token"

        public var tokenURL: String
        public var requestTimeout: Duration
        /// A cached token is dropped this long before Google's expiry, so a token is
        /// never handed out just as it dies in flight.
        public var expirySafetyMargin: Duration

        public init(
            tokenURL: String = defaultTokenURL, requestTimeout: Duration = .seconds(10),
            expirySafetyMargin: Duration = .seconds(60)
        ) {
            self.tokenURL = tokenURL
            self.requestTimeout = requestTimeout
            self.expirySafetyMargin = expirySafetyMargin
        }

        /// `GOOGLE_TOKEN_URL` (default `https://oauth2.googleapis.com/token`).
        public static func fromEnvironment(
            _ environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws(GoogleConfigurationError) -> Configuration {
            Configuration(tokenURL: try GoogleConfigurationError.checkedURL(environment, "GOOGLE_TOKEN_URL", default: defaultTokenURL))
        }
    }

    private struct CachedToken {
        let accessToken: String
        /// When to stop handing it out: Google's expiry minus the safety margin.
        let refreshAt: Date
    }

    private struct Exchanged: Sendable {
        let accessToken: String
        let expiresIn: TimeInterval
    }

    private let httpClient: HTTPClient
    private let configuration: Configuration
    private let now: @Sendable () -> Date
    private var cache: [String: CachedToken] = [:]
    private var inFlight: [String: Task<Exchanged, any Error>] = [:]
    /// How many exchanges were started; for tests and metrics.
    public private(set) var exchangeCount = 0

    /// `now` is injectable so tests can move past an expiry without waiting.
    public init(
        httpClient: HTTPClient = .shared, configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.httpClient = httpClient
        self.configuration = configuration
        self.now = now
    }

    /// An access token, or an `ExecutionFailure` (`token_invalid_grant` and
    /// `token_invalid_client` are permanent: a person must reconnect the account).
    public func accessToken(workspaceID: String, credentials: GoogleCredentials) async throws -> String {
        let refreshToken: String, clientID: String, clientSecret: String
        switch credentials {
        case .accessToken(let token):
            return token
        case .refreshToken(let r, let id, let secret):
            (refreshToken, clientID, clientSecret) = (r, id, secret)
        }
        let key = credentials.fingerprint(workspaceID: workspaceID)
        if let cached = cache[key], now() < cached.refreshAt { return cached.accessToken }

        let task: Task<Exchanged, any Error>
        if let running = inFlight[key] {
            task = running
        } else {
            exchangeCount += 1
            let (client, configuration) = (httpClient, configuration)
            task = Task {
                try await Self.exchange(
                    refreshToken: refreshToken, clientID: clientID, clientSecret: clientSecret, client: client,
                    configuration: configuration)
            }
            inFlight[key] = task
        }
        // Waiting callers are not tied to the exchange: one cancelled caller does not
        // fail the others (the exchange is bounded by the request timeout anyway).
        let result: Result<Exchanged, any Error>
        do { result = .success(try await task.value) } catch { result = .failure(error) }
        // The actor was released while waiting; only the first caller back settles the flight.
        if inFlight[key] == task {
            inFlight[key] = nil
            if case .success(let token) = result {
                // Drop tokens of credentials no longer used (rotated, disconnected).
                let current = now()
                cache = cache.filter { $0.value.refreshAt > current }
                let lifetime = token.expiresIn - Self.seconds(configuration.expirySafetyMargin)
                cache[key] = CachedToken(accessToken: token.accessToken, refreshAt: now().addingTimeInterval(lifetime))
            }
        }
        return try result.get().accessToken
    }

    /// Forgets the cached token after Gmail answered 401 with it. With `rejectedToken`,
    /// a newer token that another job already fetched is kept.
    public func invalidate(workspaceID: String, credentials: GoogleCredentials, rejectedToken: String? = nil) {
        let key = credentials.fingerprint(workspaceID: workspaceID)
        if let rejectedToken, cache[key]?.accessToken != rejectedToken { return }
        cache[key] = nil
    }

    private static func exchange(
        refreshToken: String, clientID: String, clientSecret: String, client: HTTPClient, configuration: Configuration
    ) async throws -> Exchanged {
        var request = HTTPClientRequest(url: configuration.tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let form = [
            ("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientID),
            ("client_secret", clientSecret),
        ].map { "\($0.0)=\(formEncode($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))

        let service = "Google token endpoint"
        let response = try await GoogleHTTP.perform(
            request, client: client, timeout: configuration.requestTimeout, service: service)
        guard response.status == 200 else { throw classify(response) }
        struct TokenResponse: Decodable {
            let access_token: String
            let expires_in: Double?
            let token_type: String?
        }
        guard let token = try? JSONDecoder().decode(TokenResponse.self, from: response.body), !token.access_token.isEmpty,
            token.token_type.map({ $0.caseInsensitiveCompare("Bearer") == .orderedSame }) ?? true
        else {
            // A 200 that is not a token answer is a proxy or an outage page: try again later.
            throw ExecutionFailure.retryable("token_bad_response", "\(service) answered 200 without a bearer access token")
        }
        // Google's tokens live 3599 s; without expires_in, assume a short life rather than forever.
        return Exchanged(accessToken: token.access_token, expiresIn: token.expires_in ?? 300)
    }

    /// 400/401 `invalid_grant` (revoked or expired refresh token) and `invalid_client`
    /// (wrong client id or secret) will not heal by retrying; 429 and 5xx will.
    static func classify(_ response: GoogleHTTPResponse) -> ExecutionFailure {
        let error = GoogleHTTP.errorBody(response.body)
        let detail = GoogleHTTP.safeSnippet(error.message)
        let status = response.status
        switch (status, error.oauthError) {
        case (400, "invalid_grant"), (401, "invalid_grant"):
            return .permanent("token_invalid_grant", "the refresh token was refused (HTTP \(status) invalid_grant)\(detail)")
        case (400, "invalid_client"), (401, "invalid_client"), (401, "unauthorized_client"), (400, "unauthorized_client"):
            return .permanent(
                "token_invalid_client", "the OAuth client was refused (HTTP \(status) \(error.oauthError!))\(detail)")
        case (429, _):
            return .retryable(
                "token_rate_limited", "Google token endpoint rate-limited the exchange (HTTP 429)",
                retryAfter: GoogleHTTP.retryAfter(response.headers))
        case (500...599, _):
            return .retryable(
                "token_unavailable", "Google token endpoint answered HTTP \(status)",
                retryAfter: GoogleHTTP.retryAfter(response.headers))
        default:
            let code = error.oauthError.map { " \($0.prefix(64))" } ?? ""
            return .permanent("token_refused", "Google token endpoint answered HTTP \(status)\(code)\(detail)")
        }
    }

    /// application/x-www-form-urlencoded: everything but unreserved characters escaped.
    static func formEncode(_ value: String) -> String {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
