import Auth
import Logging
import Persistence
import PostgresNIO
import ServiceLifecycle

/// Holds one connection in `LISTEN gateapi_config` and drops the cached API keys and
/// policies that other replicas (or the CLI) changed. Each (re)connect empties both
/// caches: whatever changed while it was not listening is read afresh.
struct ConfigNotificationsListener: Service {
    static let channel = "gateapi_config"

    let postgres: PostgresClient
    let keys: CachedAPIKeyLookup
    let policies: CachedPolicyLookup
    let logger: Logger

    func run() async throws {
        try await runPeriodically(every: .seconds(1), logger: logger, task: "config notifications listener") {
            try await postgres.withConnection { connection in
                try await connection.listen(on: Self.channel) { notifications in
                    keys.invalidateAll()
                    policies.invalidateAll()
                    for try await notification in notifications { apply(notification.payload) }
                }
            }
        }
    }

    /// `key:<id>` or `policy:<workspace>:<action>` (migration 0008); anything else
    /// empties both caches, which is always safe.
    func apply(_ payload: String) {
        if payload.hasPrefix("key:") {
            keys.invalidate(id: String(payload.dropFirst(4)))
        } else if payload.hasPrefix("policy:") {
            let rest = payload.dropFirst(7)
            // Workspace ids contain no ':' ; the action is everything after the first one.
            if let colon = rest.firstIndex(of: ":") {
                policies.invalidate(workspaceID: String(rest[..<colon]), action: String(rest[rest.index(after: colon)...]))
            } else {
                policies.invalidateAll()
            }
        } else {
            keys.invalidateAll()
            policies.invalidateAll()
        }
    }
}
