import Auth
import Gate
import Persistence

/// Drops the cached API keys and policies that other replicas (or the CLI) changed,
/// from the notifications on `gateapi_config` (migration 0008).
struct ConfigCacheInvalidation: Sendable {
    static let channel = "gateapi_config"

    let keys: CachedAPIKeyLookup
    let policies: CachedPolicyLookup

    /// On each (re)connect of the listener: whatever changed while nobody was
    /// listening is read afresh.
    func reset() {
        keys.invalidateAll()
        policies.invalidateAll()
    }

    /// `key:<id>` or `policy:<workspace>:<action>`; anything else empties both caches,
    /// which is always safe.
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
            reset()
        }
    }

    var listenerChannel: NotificationsListener.Channel {
        NotificationsListener.Channel(name: Self.channel, onListening: reset, onNotification: apply)
    }
}
