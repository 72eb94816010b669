import Crypto
import Foundation
import Gate
import GateCore

/// Signatures of a webhook delivery.
///
/// The current scheme is Standard Webhooks (https://www.standardwebhooks.com): headers
/// `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256(key,
/// "<id>.<timestamp>.<body>")>`, where the key is the base64-decoded part of a workspace
/// secret `whsec_<base64>`. During a rotation every secret still in its overlap signs
/// too (signatures separated by spaces), so a receiver holding either one verifies.
///
/// `GateAPI-Signature` (server-wide `WEBHOOK_SECRET`, `t=<ts>,v1=<hex HMAC>`) is the
/// deprecated v1 scheme: every workspace's receivers know that one secret, so each of
/// them could forge the others' events. It is still sent while
/// `WEBHOOK_LEGACY_SIGNATURE=true`.
enum WebhookSignature {
    static let secretPrefix = ManageWebhookSecrets.secretPrefix

    /// The HMAC key of a `whsec_` secret; nil if it is not one.
    static func key(of secret: String) -> SymmetricKey? {
        guard secret.hasPrefix(secretPrefix), let bytes = Data(base64Encoded: String(secret.dropFirst(secretPrefix.count))),
            !bytes.isEmpty
        else { return nil }
        return SymmetricKey(data: bytes)
    }

    /// The `webhook-signature` value: one `v1,<base64>` per key, space separated.
    static func standard(keys: [SymmetricKey], id: String, timestamp: Int, body: String) -> String {
        let signed = Data("\(id).\(timestamp).\(body)".utf8)
        return keys.map { "v1," + Data(HMAC<SHA256>.authenticationCode(for: signed, using: $0)).base64EncodedString() }
            .joined(separator: " ")
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the deprecated
    /// `GateAPI-Signature`.
    static func legacy(secret: String, timestamp: Int, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + Hex.encode(mac)
    }
}
