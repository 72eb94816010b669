import Actions
import AsyncHTTPClient
import Crypto
import Foundation
import Gate
import GateCore
import Logging
import NIOCore
import NIOPosix
import Persistence
import ServiceLifecycle
import Synchronization

struct WebhookSettings: Sendable {
    /// Turns webhooks on (without it, submissions with a callback_url are refused) and
    /// signs the deprecated `GateAPI-Signature` header.
    var secret: String?
    /// Whether `GateAPI-Signature` is still sent (`WEBHOOK_LEGACY_SIGNATURE`).
    var legacySignature: Bool
    var maxAttempts: Int
    var retryBase: Duration
    /// Loopback and private destinations are refused unless allowed (SSRF).
    var allowPrivateNetworks: Bool
    /// One attempt from name resolution to the end of the response (`WEBHOOK_TIMEOUT_SECONDS`).
    var timeout: Duration
    /// Deliveries in flight in one replica (`WEBHOOK_CONCURRENCY`) …
    var concurrency: Int
    /// … and of them, at most this many for one workspace (`WEBHOOK_CONCURRENCY_PER_WORKSPACE`).
    var concurrencyPerWorkspace: Int
}

/// Delivers queued webhooks (`webhook_deliveries`), in every replica, retried with
/// exponential backoff and jitter up to `maxAttempts`.
///
/// A slow or silent receiver costs its own workspace only: every attempt ends after
/// `timeout`, deliveries run side by side up to `concurrency`, one workspace holds at
/// most `concurrencyPerWorkspace` of those slots, and a freed slot is filled at the next
/// tick without waiting for the others.
struct WebhookDeliverer: Service {
    let store: WebhookStore
    let settings: WebhookSettings
    /// Opens the workspaces' webhook secrets (`SECRETS_KEY`).
    let secrets: SecretBox?
    let resolver: WebhookResolver
    let interval: Duration
    let logger: Logger

    /// Runs until graceful shutdown (a service that returns early stops the whole group).
    func run() async throws {
        let inFlight = InFlightDeliveries()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    var more = false
                    do {
                        more = try await dispatch(into: &group, inFlight: inFlight)
                    } catch {
                        if Task.isCancelled { break }
                        logger.warning("webhook delivery failed", metadata: ["error": "\(describe(error))"])
                    }
                    if !more { try? await Task.sleep(for: interval) }
                }
                group.cancelAll()
            }
        }
    }

    /// Starts as many due deliveries as there are free slots; true if all were taken
    /// and more may be due.
    func dispatch(into group: inout DiscardingTaskGroup, inFlight: InFlightDeliveries) async throws -> Bool {
        let (total, perWorkspace) = inFlight.counts()
        let free = settings.concurrency - total
        guard free > 0 else { return false }
        let full = perWorkspace.filter { $0.value >= settings.concurrencyPerWorkspace }.map(\.key)
        let store = self.store
        let limit = max(100, free * 4)
        let candidates = try await withTimeout(.seconds(30), dependency: "postgres") {
            try await store.dueCandidates(limit: limit, excluding: full)
        }
        var planned = perWorkspace
        var picked: [Int64] = []
        for candidate in candidates where picked.count < free && planned[candidate.workspaceID, default: 0] < settings.concurrencyPerWorkspace {
            picked.append(candidate.id)
            planned[candidate.workspaceID, default: 0] += 1
        }
        guard !picked.isEmpty else { return false }
        // The lease outlasts an attempt, so no other replica starts the same one.
        let lease = Int(settings.timeout.components.seconds) + 60
        let ids = picked
        let claimed = try await withTimeout(.seconds(30), dependency: "postgres") {
            try await store.claim(ids: ids, leaseSeconds: lease)
        }
        for delivery in claimed {
            inFlight.start(delivery.workspaceID)
            group.addTask {
                await deliver(delivery)
                inFlight.finish(delivery.workspaceID)
            }
        }
        return candidates.count == limit && picked.count == free
    }

    enum Outcome: Equatable {
        case delivered
        case retry(String)
        case giveUp(String)
    }

    /// One attempt, and its outcome recorded.
    func deliver(_ delivery: WebhookDelivery) async {
        let outcome: Outcome
        do {
            let settings = self.settings
            outcome = try await withTimeout(settings.timeout, dependency: "webhook receiver") { await attempt(delivery) }
        } catch {
            outcome = .retry(error is DependencyTimeout ? "no answer within \(settings.timeout)" : describe(error))
        }
        do {
            let store = self.store
            switch outcome {
            case .delivered:
                try await withTimeout(.seconds(30), dependency: "postgres") { try await store.markDelivered(delivery.id) }
            case .giveUp(let error):
                try await withTimeout(.seconds(30), dependency: "postgres") {
                    try await store.markFailed(delivery.id, error: error, retryAfterSeconds: nil)
                }
            case .retry(let error):
                let delay: Double? =
                    delivery.attempts < settings.maxAttempts
                    ? Backoff(base: settings.retryBase, maximum: .seconds(3600)).delay(beforeRetry: delivery.attempts).seconds : nil
                try await withTimeout(.seconds(30), dependency: "postgres") {
                    try await store.markFailed(delivery.id, error: error, retryAfterSeconds: delay)
                }
            }
        } catch {
            // The lease runs out and the delivery is attempted again.
            logger.warning("webhook outcome not recorded", metadata: ["delivery": "\(delivery.id)", "error": "\(describe(error))"])
        }
    }

    /// Resolves and checks the destination, then POSTs to the checked address.
    func attempt(_ delivery: WebhookDelivery) async -> Outcome {
        let destination: WebhookDestination
        do throws(WebhookDestination.Failure) {
            destination = try await WebhookDestination.resolve(
                delivery.url, allowPrivateNetworks: settings.allowPrivateNetworks, resolver: resolver)
        } catch {
            switch error {
            case .invalidURL:
                return .giveUp("invalid url")
            case .refused(let reason):
                logger.notice("webhook refused: private destination", metadata: ["delivery": "\(delivery.id)", "reason": "\(reason)"])
                return .giveUp("destination is not a public address: \(reason)")
            case .unresolved(let reason):
                return .retry(reason)
            }
        }
        let keys: [SymmetricKey]
        do {
            keys = try delivery.sealedSecrets.map { sealed in
                guard let secrets else { throw SecretBoxError.missingKey }
                guard let key = WebhookSignature.key(of: try secrets.openString(sealed, workspaceID: delivery.workspaceID))
                else { throw SecretBoxError.malformed }
                return key
            }
        } catch {
            logger.error("webhook secret cannot be opened", metadata: ["workspace": "\(delivery.workspaceID)", "error": "\(error)"])
            return .retry("the workspace's webhook secret cannot be opened")
        }
        let legacySecret = settings.legacySignature ? settings.secret : nil
        guard !keys.isEmpty || legacySecret != nil else {
            // Never sent unsigned; an admin who adds a secret in time rescues it.
            return .retry("the workspace has no webhook secret")
        }
        let request = Self.request(for: delivery, keys: keys, legacySecret: legacySecret, timestamp: Int(Date().timeIntervalSince1970))
        let client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: Self.clientConfiguration(to: destination, timeout: settings.timeout))
        let outcome: Outcome
        do {
            let response = try await client.execute(request, timeout: .init(settings.timeout))
            // Read (a bounded part of) the answer, so the receiver sees it taken.
            var read = 0
            for try await chunk in response.body {
                read += chunk.readableBytes
                if read > 64 * 1024 { break }
            }
            let code = Int(response.status.code)
            if (200..<300).contains(code) {
                outcome = .delivered
            } else if (300..<400).contains(code) {
                outcome = .retry("HTTP \(code) (redirects are not followed)")
            } else {
                outcome = .retry("HTTP \(code)")
            }
        } catch {
            outcome = .retry(describe(error))
        }
        try? await client.shutdown()
        return outcome
    }

    static func request(for delivery: WebhookDelivery, keys: [SymmetricKey], legacySecret: String?, timestamp: Int) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "GateAPI-Webhooks/1")
        let id = "msg_\(delivery.id)"
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        if !keys.isEmpty {
            request.headers.add(
                name: "webhook-signature", value: WebhookSignature.standard(keys: keys, id: id, timestamp: timestamp, body: delivery.body))
        }
        request.headers.add(name: "GateAPI-Event", value: delivery.event)
        request.headers.add(name: "GateAPI-Delivery", value: String(delivery.id))
        if let legacySecret {
            request.headers.add(
                name: "GateAPI-Signature", value: WebhookSignature.legacy(secret: legacySecret, timestamp: timestamp, body: delivery.body))
        }
        request.body = .bytes(ByteBuffer(string: delivery.body))
        return request
    }

    /// A client for one delivery: it connects to the checked address only (the host
    /// name still sets Host and TLS SNI, and the certificate is checked for it),
    /// verifies the peer once connected, and follows no redirect (a 3xx is a failed
    /// attempt: a redirect could point anywhere).
    static func clientConfiguration(to destination: WebhookDestination, timeout: Duration) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .init(timeout), read: .init(timeout)),
            connectionPool: .init(), proxy: nil)
        configuration.dnsOverride = [destination.host: destination.address.description]
        configuration.httpVersion = .http1Only
        let pinned = destination.address
        configuration.http1_1ConnectionDebugInitializer = { channel in
            guard let peer = channel.remoteAddress.flatMap(IPAddress.init), peer == pinned else {
                return channel.eventLoop.makeFailedFuture(UnpinnedConnection(peer: "\(channel.remoteAddress.map { "\($0)" } ?? "unknown")"))
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        return configuration
    }

    struct UnpinnedConnection: Error, CustomStringConvertible {
        let peer: String
        var description: String { "connected to \(peer), not the checked address" }
    }
}

/// How many deliveries this replica has in flight, in all and per workspace.
final class InFlightDeliveries: Sendable {
    private let state = Mutex<(total: Int, perWorkspace: [String: Int])>((0, [:]))

    func counts() -> (total: Int, perWorkspace: [String: Int]) { state.withLock { $0 } }

    func start(_ workspace: String) {
        state.withLock {
            $0.total += 1
            $0.perWorkspace[workspace, default: 0] += 1
        }
    }

    func finish(_ workspace: String) {
        state.withLock {
            $0.total -= 1
            $0.perWorkspace[workspace, default: 0] -= 1
            if $0.perWorkspace[workspace] == 0 { $0.perWorkspace[workspace] = nil }
        }
    }
}
