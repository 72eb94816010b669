import Foundation
import HTTPTypes
import Hummingbird

/// The client's address as audit rows and per-address limits should name it: the TCP
/// peer, unless the peer is one of `TRUSTED_PROXIES`; then `X-Forwarded-For` is walked
/// from the right (each trusted proxy appends the address it was connected from),
/// skipping trusted hops, and the first untrusted hop is the client. A header from an
/// untrusted peer is ignored entirely, since anyone can send one. An unreadable entry
/// ends the walk at the last trusted hop, which is then what is known.
enum ClientAddress {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    static func resolve(peer: String?, forwardedFor headers: [String], trusted: [IPNetwork]) -> String? {
        guard let peer, isTrusted(peer, trusted) else { return peer }
        let hops = headers.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for hop in hops.reversed() {
            guard let address = IPAddress(hop)?.unmapped else { break }
            client = hop
            if !trusted.contains(where: { $0.contains(address) }) { break }
        }
        return client
    }

    static func isTrusted(_ address: String, _ trusted: [IPNetwork]) -> Bool {
        guard !trusted.isEmpty, let address = IPAddress(address)?.unmapped else { return false }
        return trusted.contains { $0.contains(address) }
    }
}

/// Sets `context.remoteIP` from `X-Forwarded-For` when the peer is a trusted proxy
/// (`ClientAddress`). Outermost, so that every limit and audit row sees the result.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trustedProxies: [IPNetwork]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.remoteIP = ClientAddress.resolve(
            peer: context.remoteIP, forwardedFor: request.headers[values: ClientAddress.forwardedFor], trusted: trustedProxies)
        return try await next(request, context)
    }
}
