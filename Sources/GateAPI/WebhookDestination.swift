import Foundation
import NIOCore
import NIOPosix

/// Where one webhook delivery goes: its URL's host, resolved once, every address
/// checked, and the one address the connection must be made to. The HTTP client is
/// told to connect there (`dnsOverride`) and the peer is checked again once connected,
/// so a name that answers a public address to the check and a private one to a second
/// lookup (DNS rebinding) reaches nothing; the Host header and TLS SNI stay the name.
struct WebhookDestination: Sendable, Equatable {
    /// The host as the URL names it (brackets removed from an IPv6 literal).
    let host: String
    let address: IPAddress

    enum Failure: Error, Equatable {
        /// Not an absolute http(s) URL with a host: never deliverable.
        case invalidURL
        /// Points at an address that is not globally routable: never deliverable.
        case refused(String)
        /// The name did not resolve (now): worth another attempt.
        case unresolved(String)
    }

    /// Resolves and checks `url`'s host. With `allowPrivateNetworks` (development
    /// only), every address is acceptable, but the connection is still pinned.
    static func resolve(
        _ url: String, allowPrivateNetworks: Bool, resolver: WebhookResolver
    ) async throws(Failure) -> WebhookDestination {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let rawHost = parsed.host, !rawHost.isEmpty
        else { throw .invalidURL }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            do { addresses = try await resolver.resolve(host) } catch { throw .unresolved("cannot resolve \(host): \(error)") }
        }
        // IPv4 first when there is one: a replica without IPv6 egress is common, and
        // only one address is tried (the one checked).
        guard let chosen = addresses.first(where: \.isV4) ?? addresses.first else { throw .unresolved("\(host) has no address") }
        if !allowPrivateNetworks {
            // Every address, not only the one used: a name must not be half inside.
            for address in addresses {
                if let reason = SpecialPurposeAddresses.refusal(for: address) {
                    throw .refused("\(host) resolves to \(address), \(reason)")
                }
            }
        }
        return WebhookDestination(host: host, address: chosen)
    }
}

/// Name resolution for webhook destinations; the system resolver except in tests,
/// which stand in names no DNS server knows.
struct WebhookResolver: Sendable {
    let resolve: @Sendable (String) async throws -> [IPAddress]

    /// `getaddrinfo`, on NIO's thread pool (it blocks), in the order it returns
    /// (RFC 6724 destination address selection).
    static let system = WebhookResolver { host in
        var seen = Set<IPAddress>()
        return try await NIOThreadPool.singleton.runIfActive { try SocketAddress.resolveAll(host: host) }
            .compactMap(IPAddress.init).filter { seen.insert($0).inserted }
    }
}

extension SocketAddress {
    /// Every address `getaddrinfo` gives for `host` (TCP).
    static func resolveAll(host: String) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        guard status == 0, let first = result else { throw ResolutionFailure(message: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = info.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { addresses.append(SocketAddress($0.pointee, host: host)) }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { addresses.append(SocketAddress($0.pointee, host: host)) }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    struct ResolutionFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
