/// Which addresses a webhook may be sent to: globally routable unicast only.
///
/// The tables are the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890
/// and its updates), plus multicast, the reserved 240.0.0.0/4 and, for IPv6, everything
/// outside global unicast (2000::/3). Every registry entry is refused, even the few
/// marked globally reachable (AS112, AMT, ORCHIDv2): no webhook receiver lives there,
/// and a short table is easier to check than exceptions. Three IPv6 forms carry an IPv4
/// address that the packet really goes to, so that address decides: IPv4-mapped
/// (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
enum SpecialPurposeAddresses {
    struct Block: Sendable {
        let range: IPNetwork
        let name: String

        init(_ cidr: String, _ name: String) {
            let parts = cidr.split(separator: "/")
            range = IPNetwork(network: IPAddress(String(parts[0]))!, prefixLength: Int(parts[1])!)!
            self.name = name
        }

        func contains(_ address: IPAddress) -> Bool { range.contains(address) }

        var description: String { "\(name) (\(range.network)/\(range.prefixLength))" }
    }

    static let ipv4: [Block] = [
        Block("0.0.0.0/8", "this network"),
        Block("10.0.0.0/8", "private-use"),
        Block("100.64.0.0/10", "shared address space (CGNAT)"),
        Block("127.0.0.0/8", "loopback"),
        Block("169.254.0.0/16", "link-local"),
        Block("172.16.0.0/12", "private-use"),
        Block("192.0.0.0/24", "IETF protocol assignments"),
        Block("192.0.2.0/24", "documentation (TEST-NET-1)"),
        Block("192.31.196.0/24", "AS112-v4"),
        Block("192.52.193.0/24", "AMT"),
        Block("192.88.99.0/24", "deprecated 6to4 relay anycast"),
        Block("192.168.0.0/16", "private-use"),
        Block("192.175.48.0/24", "direct delegation AS112 service"),
        Block("198.18.0.0/15", "benchmarking"),
        Block("198.51.100.0/24", "documentation (TEST-NET-2)"),
        Block("203.0.113.0/24", "documentation (TEST-NET-3)"),
        Block("224.0.0.0/4", "multicast"),
        Block("240.0.0.0/4", "reserved"),  // includes 255.255.255.255, limited broadcast
    ]

    static let ipv6: [Block] = [
        Block("::/128", "unspecified"),
        Block("::1/128", "loopback"),
        Block("::/96", "IPv4-compatible (deprecated)"),
        Block("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
        Block("100::/64", "discard-only"),
        Block("100:0:0:1::/64", "dummy IPv6 prefix"),
        Block("2001::/23", "IETF protocol assignments (incl. Teredo 2001::/32)"),
        Block("2001:db8::/32", "documentation"),
        Block("2620:4f:8000::/48", "direct delegation AS112 service"),
        Block("3fff::/20", "documentation"),
        Block("5f00::/16", "segment routing (SRv6) SIDs"),
        Block("fc00::/7", "unique local"),
        Block("fe80::/10", "link-local"),
        Block("fec0::/10", "site-local (deprecated)"),
        Block("ff00::/8", "multicast"),
    ]

    static let globalUnicast = Block("2000::/3", "global unicast")
    static let ipv4Mapped = Block("::ffff:0:0/96", "IPv4-mapped")
    static let nat64 = Block("64:ff9b::/96", "NAT64")
    static let sixToFour = Block("2002::/16", "6to4")

    /// Why `address` may not receive a webhook, or nil when it is globally routable.
    static func refusal(for address: IPAddress) -> String? {
        if address.isV4 { return ipv4.first { $0.contains(address) }?.description }
        let bytes = address.bytes
        for (block, embedded) in [(ipv4Mapped, bytes[12..<16]), (nat64, bytes[12..<16]), (sixToFour, bytes[2..<6])]
        where block.contains(address) {
            return refusal(for: IPAddress(bytes: Array(embedded))!).map { "\(block.name) \(address) → \($0)" }
        }
        if let block = ipv6.first(where: { $0.contains(address) }) { return block.description }
        return globalUnicast.contains(address) ? nil : "not global unicast (outside 2000::/3)"
    }
}
