/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address:
/// `TRUSTED_PROXIES` and the special-purpose address tables.
struct IPNetwork: Sendable, Equatable {
    let network: IPAddress
    let prefixLength: Int

    init?(network: IPAddress, prefixLength: Int) {
        guard (0...network.bytes.count * 8).contains(prefixLength) else { return nil }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// `10.0.0.0/8`, `fd00::/8`, or one address. A mapped IPv6 network
    /// (`::ffff:10.0.0.0/104`) names the IPv4 one.
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let written = IPAddress(String(parts[0])) else { return nil }
        let address = written.unmapped
        var length = address.bytes.count * 8
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...written.bytes.count * 8).contains(given) else { return nil }
            length = given - (written.bytes.count - address.bytes.count) * 8
        }
        self.init(network: address, prefixLength: length)
    }

    var bytes: [UInt8] { network.bytes }

    /// Whether `address` lies in the network; an address of the other family never does.
    func contains(_ address: IPAddress) -> Bool { contains(address.bytes) }

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.bytes.count else { return false }
        var left = prefixLength
        for (a, b) in zip(address, network.bytes) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            if a & mask != b & mask { return false }
            left -= 8
        }
        return true
    }
}
