import AsyncHTTPClient
import Crypto
import Foundation
import GateCore
import Logging
import NIOCore
import NIOPosix
import Persistence
import ServiceLifecycle

struct WebhookSettings: Sendable {
    /// Signs every delivery; without it, submissions with a callback_url are refused.
    var secret: String?
    var maxAttempts: Int
    var retryBase: Duration
    /// Loopback and private destinations are refused unless allowed (SSRF).
    var allowPrivateNetworks: Bool
}

/// Delivers queued webhooks (`webhook_deliveries`), in every replica: POST with an
/// HMAC-SHA256 signature over `timestamp.body`, retried with exponential backoff and
/// jitter up to `maxAttempts`.
struct WebhookDeliverer: Service {
    let store: WebhookStore
    let settings: WebhookSettings
    let secret: String
    let interval: Duration
    let logger: Logger

    /// Runs until graceful shutdown (a service that returns early stops the whole group).
    func run() async throws {
        try await runPeriodically(every: interval, logger: logger, task: "webhook delivery") {
            var due: [WebhookDelivery]
            repeat {
                due = try await store.claimDue(limit: 10, leaseSeconds: 60)
                await withTaskGroup(of: Void.self) { group in
                    for delivery in due { group.addTask { await deliver(delivery, secret: secret) } }
                }
            } while due.count == 10
        }
    }

    func deliver(_ delivery: WebhookDelivery, secret: String) async {
        do {
            guard let url = URL(string: delivery.url), let host = url.host else {
                try await store.markFailed(delivery.id, error: "invalid url", retryAfterSeconds: nil)
                return
            }
            if !settings.allowPrivateNetworks, try await !DestinationCheck.isPublic(host: host) {
                try await store.markFailed(delivery.id, error: "destination is not a public address", retryAfterSeconds: nil)
                logger.notice("webhook refused: private destination", metadata: ["delivery": "\(delivery.id)"])
                return
            }
            let timestamp = Int(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: delivery.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "GateAPI-Webhooks/1")
            request.headers.add(name: "GateAPI-Event", value: delivery.event)
            request.headers.add(name: "GateAPI-Delivery", value: String(delivery.id))
            request.headers.add(name: "GateAPI-Signature", value: Self.signature(secret: secret, timestamp: timestamp, body: delivery.body))
            request.body = .bytes(ByteBuffer(string: delivery.body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if (200..<300).contains(Int(response.status.code)) {
                try await store.markDelivered(delivery.id)
            } else {
                try await retryOrGiveUp(delivery, error: "HTTP \(response.status.code)")
            }
        } catch {
            try? await retryOrGiveUp(delivery, error: "\(error)")
        }
    }

    private func retryOrGiveUp(_ delivery: WebhookDelivery, error: String) async throws {
        guard delivery.attempts < settings.maxAttempts else {
            try await store.markFailed(delivery.id, error: error, retryAfterSeconds: nil)
            return
        }
        let delay = Backoff(base: settings.retryBase, maximum: .seconds(3600)).delay(beforeRetry: delivery.attempts)
        try await store.markFailed(delivery.id, error: error, retryAfterSeconds: delay.seconds)
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as receivers verify it.
    static func signature(secret: String, timestamp: Int, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + Hex.encode(mac)
    }
}

/// Refuses webhook destinations on loopback, private, link-local, CGNAT, multicast or
/// unspecified addresses, so a callback_url cannot reach the operator's own network.
enum DestinationCheck {
    static func isPublic(host: String) async throws -> Bool {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let addresses: [SocketAddress]
        if let literal = try? SocketAddress(ipAddress: bare, port: 0) {
            addresses = [literal]
        } else {
            // getaddrinfo blocks: run it on NIO's thread pool, not on a Swift concurrency thread.
            addresses = try await NIOThreadPool.singleton.runIfActive { try SocketAddress.resolveAll(host: bare) }
        }
        return !addresses.isEmpty && addresses.allSatisfy(isPublic)
    }

    static func isPublic(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let v4):
            let value = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return isPublicV4(value)
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return isPublicV4(UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15]))
            }
            if bytes.allSatisfy({ $0 == 0 }) || bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return false }
            if bytes[0] & 0xFE == 0xFC { return false }  // fc00::/7 unique local
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return false }  // fe80::/10 link-local
            if bytes[0] == 0xFF { return false }  // multicast
            return true
        default:
            return false
        }
    }

    static func isPublicV4(_ a: UInt32) -> Bool {
        func within(_ prefix: UInt32, _ bits: UInt32) -> Bool { a >> (32 - bits) == prefix >> (32 - bits) }
        return !(within(0x0000_0000, 8) || within(0x0A00_0000, 8) || within(0x7F00_0000, 8) || within(0xA9FE_0000, 16)
            || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) || within(0x6440_0000, 10) || within(0xE000_0000, 4)
            || within(0xF000_0000, 4))
    }
}

extension SocketAddress {
    static func resolveAll(host: String) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
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
}
