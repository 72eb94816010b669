import GateCore

/// Gmail credentials as an admin sends them (HTTP or CLI):
/// `{"type":"access_token","access_token":"…"}` or
/// `{"type":"refresh_token","refresh_token":"…","client_id":"…","client_secret":"…"}`.
/// Every problem is reported by field name, never with the value.
public enum GoogleCredentialsInput {
    public static func parse(_ value: JSONValue) -> Result<GoogleCredentials, ValidationFailure> {
        guard case .object(let members) = value else {
            return .failure(ValidationFailure([FieldError(field: "body", message: "must be a JSON object")]))
        }
        let fields: [String: [String]] = [
            "access_token": ["access_token"], "refresh_token": ["refresh_token", "client_id", "client_secret"],
        ]
        guard case .string(let type)? = members["type"], let required = fields[type] else {
            return .failure(ValidationFailure([FieldError(field: "type", message: "must be \"access_token\" or \"refresh_token\"")]))
        }
        var errors: [FieldError] = []
        for key in members.keys.sorted() where key != "type" && !required.contains(key) {
            errors.append(FieldError(field: key, message: "is not a field of \(type) credentials"))
        }
        var strings: [String: String] = [:]
        for key in required {
            guard case .string(let text)? = members[key] else {
                errors.append(FieldError(field: key, message: "is required and must be a string"))
                continue
            }
            strings[key] = text
        }
        guard errors.isEmpty else { return .failure(ValidationFailure(errors)) }
        let credentials: GoogleCredentials =
            type == "access_token"
            ? .accessToken(strings["access_token"]!)
            : .refreshToken(
                refreshToken: strings["refresh_token"]!, clientID: strings["client_id"]!, clientSecret: strings["client_secret"]!)
        do throws(GoogleCredentialsError) {
            return .success(try credentials.validated())
        } catch {
            switch error {
            case .invalid(let field, let reason): return .failure(ValidationFailure([FieldError(field: field, message: reason)]))
            }
        }
    }
}

extension GoogleCredentials {
    /// `access_token` or `refresh_token`: all that may be shown of stored credentials.
    public var kind: String {
        switch self {
        case .accessToken: "access_token"
        case .refreshToken: "refresh_token"
        }
    }
}
