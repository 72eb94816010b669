import GateCore

/// The typed params of each action, for the executor.
public enum ActionParams: Sendable, Equatable {
    case gmailSend(GmailSend)
    case taskCreate(TaskCreate)
}

/// An action request that passed validation: what will be stored, hashed, previewed
/// and (once approved) executed.
public struct ValidatedAction: Sendable {
    public let action: ActionName
    public let typed: ActionParams
    /// The params in normal form; exactly these are executed.
    public let params: JSONValue
    /// SHA-256 of the canonical JSON of `{action, params}`.
    public let payloadHash: String
    /// What a reviewer sees; made when asked for (a submission does not need it).
    public var preview: JSONValue {
        switch typed {
        case .gmailSend(let email): email.preview
        case .taskCreate(let task): task.preview
        }
    }
    /// Recipient domains and count, for policy constraints.
    public let recipients: [EmailAddress]
    /// The files a message carries (described; for policy constraints).
    public var files: [EmailAttachment] {
        if case .gmailSend(let email) = typed { return email.files }
        return []
    }
    /// The files' bytes, for submitted params (stored beside the job).
    public var contents: AttachmentContents {
        if case .gmailSend(let email) = typed { return email.contents }
        return AttachmentContents()
    }
}

/// The registry of actions GateAPI knows. Which of them may run in a workspace is
/// data (the policy table), not code.
public enum ActionRegistry {
    /// `form`: `.submitted` for a request's params, `.stored` for a job's (see `GmailSend.ParamsForm`).
    public static func validate(action name: String, params: JSONValue, form: GmailSend.ParamsForm)
        -> Result<ValidatedAction, ValidationFailure>
    {
        guard let action = ActionName(rawValue: name) else {
            let known = ActionName.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(ValidationFailure([FieldError(field: "action", message: "unknown action; known: \(known)")]))
        }
        switch action {
        case .gmailSend:
            return GmailSend.parse(params, form: form).map { email in
                make(.gmailSend(email), params: email.normalized, recipients: email.recipients)
            }
        case .taskCreate:
            return TaskCreate.parse(params).map { task in
                make(.taskCreate(task), params: task.normalized, recipients: [])
            }
        }
    }

    public static func payloadHash(action: ActionName, params: JSONValue) -> String {
        CanonicalJSON.sha256(.object(["action": .string(action.rawValue), "params": params]))
    }

    private static func make(_ typed: ActionParams, params: JSONValue, recipients: [EmailAddress])
        -> ValidatedAction
    {
        let action: ActionName
        switch typed {
        case .gmailSend: action = .gmailSend
        case .taskCreate: action = .taskCreate
        }
        return ValidatedAction(
            action: action, typed: typed, params: params, payloadHash: payloadHash(action: action, params: params),
            recipients: recipients)
    }
}
