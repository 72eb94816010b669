import Actions
import Foundation
import GateCore

extension SubmitJob {
    /// The body's shape, the Idempotency-Key, the callback URL and the action's params,
    /// in that order; the first problem is refused (and audited).
    func validate(_ submission: JobSubmission, refusals: Refusals) async throws -> ValidRequest {
        guard case .object(let body) = submission.body else {
            throw try await refusals(.malformed, reason: "malformed_body", detail: "the body must be a JSON object")
        }
        let unknown = body.keys.filter { !Self.bodyFields.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw try await refusals(
                .invalid, reason: "unknown_fields", detail: "unknown fields: \(unknown.joined(separator: ", "))",
                errors: unknown.map { FieldError(field: $0, message: "is not a known field") })
        }
        let key = try await idempotencyKey(header: submission.idempotencyKey, body: body, refusals: refusals)
        guard case .string(let actionName)? = body["action"] else {
            throw try await refusals(
                .invalid, reason: "validation_failed", detail: "action is required",
                errors: [FieldError(field: "action", message: "is required and must be a string")])
        }
        let callbackURL = try await callbackURL(body["callback_url"], refusals: refusals)
        switch ActionRegistry.validate(action: actionName, params: body["params"] ?? .null, form: .submitted) {
        case .success(let action):
            return ValidRequest(key: key, action: action, callbackURL: callbackURL)
        case .failure(let failure):
            throw try await refusals(
                .invalid, reason: "validation_failed",
                detail: failure.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "), errors: failure.errors,
                action: actionName, files: RefusedFile.named(by: failure.errors, in: body["params"]))
        }
    }

    /// The Idempotency-Key (1–255 printable ASCII characters), or `client_request_id` in the body.
    private func idempotencyKey(header: String?, body: [String: JSONValue], refusals: Refusals) async throws -> String {
        var alias: String?
        switch body["client_request_id"] {
        case nil, .null?: break
        case .string(let value)?: alias = value
        default:
            throw try await refusals(.malformed, reason: "bad_idempotency_key", detail: "client_request_id must be a string")
        }
        if let header, let alias, header != alias {
            throw try await refusals(.malformed, reason: "bad_idempotency_key", detail: "Idempotency-Key and client_request_id differ")
        }
        guard let key = header ?? alias else {
            throw try await refusals(.malformed, reason: "missing_idempotency_key", detail: "the Idempotency-Key header is required")
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
            throw try await refusals(
                .malformed, reason: "bad_idempotency_key", detail: "Idempotency-Key must be 1 to 255 printable ASCII characters")
        }
        return key
    }

    private func callbackURL(_ value: JSONValue?, refusals: Refusals) async throws -> String? {
        switch value {
        case nil, .null?:
            return nil
        case .string? where !webhooksEnabled:
            throw try await refusals(
                .invalid, reason: "validation_failed", detail: "this server does not deliver webhooks (WEBHOOK_SECRET is not set)",
                errors: [FieldError(field: "callback_url", message: "is not supported by this server")])
        case .string(let url)? where CallbackURL.isAcceptable(url):
            return url
        default:
            throw try await refusals(
                .invalid, reason: "validation_failed", detail: "callback_url must be an http(s) URL",
                errors: [FieldError(field: "callback_url", message: "must be an absolute http or https URL of at most 2048 characters")])
        }
    }
}

/// Where a job's outcome may be posted.
public enum CallbackURL {
    /// Absolute http(s) with a host; where it may point (private addresses) is checked at delivery.
    public static func isAcceptable(_ text: String) -> Bool {
        guard text.utf8.count <= 2048, let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty, url.user == nil
        else { return false }
        return true
    }
}
