/// The actions GateAPI can perform. The registry is code; whether an action may run
/// in a workspace is data (its policy row).
public enum ActionName: String, Sendable, CaseIterable, Codable {
    case gmailSend = "gmail.send"
    case taskCreate = "task.create"
}
