import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP exchange with a Google endpoint, shared by the token provider and the Gmail
/// client: a deadline that covers the whole response body, transport failures turned
/// into retryable `ExecutionFailure`s, and the pieces of Google's error bodies that
/// classification needs.
struct GoogleHTTPResponse: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: Data
}

enum GoogleHTTP {
    /// Google's answers are small JSON documents; anything bigger is not one of them.
    static let maxResponseBytes = 1 << 20

    /// `service` names the endpoint in failure messages ("Gmail", "Google token endpoint").
    static func perform(
        _ request: HTTPClientRequest, client: HTTPClient, timeout: Duration, service: String
    ) async throws -> GoogleHTTPResponse {
        do {
            let response = try await client.execute(request, deadline: .now() + TimeAmount(timeout))
            let body = try await response.body.collect(upTo: maxResponseBytes)
            return GoogleHTTPResponse(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
        } catch {
            throw classifyTransport(error, service: service, timeout: timeout)
        }
    }

    /// Timeouts and connection errors are retryable: the request may not have arrived,
    /// or its answer was lost. (For a send, "maybe sent" is why the executor looks the
    /// message up by Message-ID before sending again.) Cancellation stays cancellation.
    static func classifyTransport(_ error: any Error, service: String, timeout: Duration) -> any Error {
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        if let failure = error as? ExecutionFailure { return failure }
        if let http = error as? HTTPClientError {
            let timeouts: [HTTPClientError] = [
                .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout,
            ]
            if timeouts.contains(http) {
                return ExecutionFailure.retryable("timeout", "\(service) did not answer within \(timeout)")
            }
        }
        if error is NIOTooManyBytesError {
            return ExecutionFailure.retryable("\(prefix(service))_bad_response", "\(service) sent an oversized response")
        }
        // The error's own description names the host or the socket error, never a token.
        return ExecutionFailure.retryable(
            "connection_failed", "\(service) could not be reached: \(String(describing: error).prefix(200))")
    }

    private static func prefix(_ service: String) -> String {
        service.hasPrefix("Gmail") ? "gmail" : "token"
    }

    /// `Retry-After` as delta-seconds or an HTTP-date, capped at an hour so a bad
    /// header cannot park a job for days.
    static func retryAfter(_ headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces), !value.isEmpty
        else { return nil }
        let seconds: Double
        if let delta = Int(value) {
            seconds = Double(delta)
        } else if let date = httpDate(value) {
            seconds = date.timeIntervalSince(now)
        } else {
            return nil
        }
        return .seconds(Int(min(max(seconds, 0), 3600).rounded(.up)))
    }

    private static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    /// The parts of a Google error body used to classify it:
    /// `{"error":{"code":403,"message":"…","status":"…","errors":[{"reason":"…"}]}}` (APIs) or
    /// `{"error":"invalid_grant","error_description":"…"}` (OAuth).
    struct ErrorBody {
        var status: String?
        var message: String?
        var reasons: [String] = []
        var oauthError: String?
    }

    static func errorBody(_ data: Data) -> ErrorBody {
        var result = ErrorBody()
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return result }
        if let oauthError = object["error"] as? String {
            result.oauthError = oauthError
            result.message = object["error_description"] as? String
        } else if let error = object["error"] as? [String: Any] {
            result.status = error["status"] as? String
            result.message = error["message"] as? String
            result.reasons = (error["errors"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
            if let details = error["details"] as? [[String: Any]] {
                result.reasons += details.compactMap { $0["reason"] as? String }
            }
        }
        return result
    }

    /// Google's own words, shortened and on one line, for a failure message. Google's
    /// error messages describe the request, not the mail it carries.
    static func safeSnippet(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "" }
        let oneLine = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        return ": " + String(oneLine.prefix(200))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
