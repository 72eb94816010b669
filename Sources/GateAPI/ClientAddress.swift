import Foundation
import HTTPTypes
import Hummingbird

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address.
struct IPNetwork: Sendable, Equatable {
    let bytes: [UInt8]
    let prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let bytes = IPAddress.bytes(String(parts[0])) else { return nil }
        let written = parts[0].contains(":") ? 128 : 32
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...written).contains(length) else { return nil }
            // A mapped IPv6 network (::ffff:10.0.0.0/104) names the IPv4 one.
            prefixLength = written == 128 && bytes.count == 4 ? length - 96 : length
            guard prefixLength >= 0 else { return nil }
        } else {
            prefixLength = bytes.count * 8
        }
        self.bytes = bytes
    }

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var left = prefixLength
        for (a, b) in zip(address, bytes) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            if a & mask != b & mask { return false }
            left -= 8
        }
        return true
    }
}

enum IPAddress {
    /// 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; nil if `text` is neither.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }
}

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
            guard let bytes = IPAddress.bytes(hop) else { break }
            client = hop
            if !trusted.contains(where: { $0.contains(bytes) }) { break }
        }
        return client
    }

    static func isTrusted(_ address: String, _ trusted: [IPNetwork]) -> Bool {
        guard !trusted.isEmpty, let bytes = IPAddress.bytes(address) else { return false }
        return trusted.contains { $0.contains(bytes) }
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
