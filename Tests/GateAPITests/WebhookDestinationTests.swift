import Testing

@testable import GateAPI

/// Where a webhook may go: the special-purpose address table, and the check of every
/// address a name resolves to.
@Suite struct WebhookDestinationTests {
    /// Every range of the IANA special-purpose registries (RFC 6890 and updates), at both
    /// ends where that matters, with the public neighbours just outside.
    @Test(arguments: [
        // IPv4
        ("0.0.0.0", false), ("0.255.255.255", false), ("10.0.0.0", false), ("10.255.255.255", false),
        ("100.64.0.0", false), ("100.127.255.255", false), ("100.63.255.255", true), ("100.128.0.0", true),
        ("127.0.0.1", false), ("127.255.255.254", false), ("169.254.169.254", false), ("169.254.0.1", false),
        ("172.16.0.1", false), ("172.31.255.255", false), ("172.15.255.255", true), ("172.32.0.1", true),
        ("192.0.0.1", false), ("192.0.0.170", false), ("192.0.0.255", false), ("192.0.1.1", true),
        ("192.0.2.1", false), ("192.31.196.1", false), ("192.52.193.1", false), ("192.88.99.1", false),
        ("192.168.0.1", false), ("192.168.255.255", false), ("192.175.48.1", false),
        ("198.18.0.1", false), ("198.19.255.255", false), ("198.17.255.255", true), ("198.20.0.1", true),
        ("198.51.100.7", false), ("203.0.113.9", false), ("224.0.0.1", false), ("239.255.255.255", false),
        ("240.0.0.1", false), ("255.255.255.255", false), ("8.8.8.8", true), ("1.1.1.1", true),
        // IPv6
        ("::", false), ("::1", false), ("::127.0.0.1", false), ("::ffff:127.0.0.1", false),
        ("::ffff:10.0.0.1", false), ("::ffff:169.254.169.254", false), ("::ffff:8.8.8.8", true),
        ("64:ff9b::127.0.0.1", false), ("64:ff9b::a9fe:a9fe", false), ("64:ff9b::c612:1", false), ("64:ff9b::8.8.8.8", true),
        ("64:ff9b:1::1", false), ("100::1", false), ("100:0:0:1::1", false),
        ("2001::1", false), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", false), ("2001:1ff::1", false), ("2001:200::1", true),
        ("2001:db8::1", false), ("2002:7f00:1::1", false), ("2002:c0a8:101::1", false), ("2002:808:808::1", true),
        ("2620:4f:8000::1", false), ("3fff::1", false), ("5f00::1", false),
        ("fc00::1", false), ("fd12:3456::1", false), ("fe80::1", false), ("febf::1", false), ("fec0::1", false),
        ("ff02::1", false), ("ff0e::1", false), ("4000::1", false), ("1234::1", false),
        ("2606:4700::1111", true), ("2a00:1450:4001::1", true),
    ])
    func specialPurposeTable(_ text: String, _ routable: Bool) throws {
        let address = try #require(IPAddress(text))
        let refusal = SpecialPurposeAddresses.refusal(for: address)
        #expect((refusal == nil) == routable, "\(text): \(refusal ?? "routable")")
    }

    static func resolver(_ table: [String: [String]]) -> WebhookResolver {
        WebhookResolver { host in (table[host] ?? []).compactMap(IPAddress.init) }
    }

    /// A name is refused if any address it resolves to is not routable, not only the
    /// first (the one a client might pick).
    @Test func everyResolvedAddressIsChecked() async throws {
        let resolver = Self.resolver(["mixed.test": ["8.8.8.8", "127.0.0.1"], "public.test": ["2606:4700::1111", "8.8.8.8"]])
        await #expect(throws: WebhookDestination.Failure.self) {
            try await WebhookDestination.resolve("https://mixed.test/hook", allowPrivateNetworks: false, resolver: resolver)
        }
        let destination = try await WebhookDestination.resolve(
            "https://public.test:8443/hook", allowPrivateNetworks: false, resolver: resolver)
        // IPv4 preferred for the connection.
        #expect(destination == WebhookDestination(host: "public.test", address: IPAddress("8.8.8.8")!))
    }

    /// Names and literals the system resolver turns into loopback: "localhost", the
    /// short and hex IPv4 forms inet_aton accepts, and a bracketed IPv6 literal.
    @Test(arguments: ["http://localhost/x", "http://127.1/x", "http://0x7f000001/x", "http://2130706433/x", "http://[::1]:8080/x",
                      "http://[::ffff:7f00:1]/x", "http://0/x"])
    func loopbackInDisguiseIsRefused(_ url: String) async throws {
        do {
            _ = try await WebhookDestination.resolve(url, allowPrivateNetworks: false, resolver: .system)
            Issue.record("\(url) was accepted")
        } catch {
            guard case .refused = error else { Issue.record("\(url): \(error)"); return }
        }
    }

    @Test func onlyHTTPURLsWithAHost() async throws {
        for url in ["ftp://example.com/x", "http+unix://%2Ftmp%2Fsock/x", "file:///etc/passwd", "not a url"] {
            await #expect(throws: WebhookDestination.Failure.invalidURL) {
                try await WebhookDestination.resolve(url, allowPrivateNetworks: true, resolver: Self.resolver([:]))
            }
        }
        await #expect(throws: WebhookDestination.Failure.self) {
            try await WebhookDestination.resolve("http://nowhere.test/x", allowPrivateNetworks: true, resolver: Self.resolver([:]))
        }
    }
}
