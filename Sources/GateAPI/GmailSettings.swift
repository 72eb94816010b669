import Actions

/// Where and how `gmail.send` reaches Google (base URLs are settings, so tests and
/// staging point them at a local server), and the key that seals stored credentials.
struct GmailSettings: Sendable {
    var client: GmailClient.Configuration
    var tokens: GoogleTokenProvider.Configuration
    var sender: GmailSender.Configuration
    /// From SECRETS_KEY (and SECRETS_KEY_PREVIOUS); without it credentials can be
    /// neither stored nor used.
    var secrets: SecretBox? = nil
}
