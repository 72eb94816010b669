/// Where and how `gmail.send` reaches Google; base URLs are settings so tests and
/// staging can point them at a local server.
struct GmailSettings: Sendable {
    var apiBaseURL: String
    var tokenURL: String
    var requestTimeout: Duration
    /// The right-hand side of each job's Message-ID (`<job-…@domain>`).
    var messageIDDomain: String
    /// Seals stored Gmail credentials; without it they cannot be stored or used.
    var secretsKey: [UInt8]?
}
