import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The queue page's live updates: Server-Sent Events that say only "the queue
/// changed" (`event: queue`); the page then fetches its rows again, through the same
/// checks as any page. Fed by the approvals triggers of migration 0020.
extension ConsoleApprovalsController {
    /// At most one `queue` event a second, however fast approvals arrive (a burst of
    /// submissions is one refresh), and one every 10 s regardless: approvals submitted
    /// through another replica are announced only there (migration 0020), and a
    /// notification may be lost while the listener reconnects.
    static let coalesceInterval = Duration.seconds(1)
    static let refreshInterval = Duration.seconds(10)

    @Sendable func stream(_ request: Request, context: AppRequestContext) async throws -> Response {
        let workspace = try context.requireWorkspace()
        let principal = try context.requirePrincipal()
        let slot = try waiters.placeOrTooManyRequests(
            key: principal.qualifiedID,
            keyFull: "you already have \(waiters.perKey) live pages open; close one",
            replicaFull: "this server already holds \(waiters.limit) live connections; retry later")
        let subscription = events.subscribe(key: JobEvents.approvalsKey(workspace: workspace))
        return Response(status: .ok, headers: JobsController.eventStreamHeaders, body: ResponseBody { writer in
            defer {
                subscription.cancel()
                withExtendedLifetime(slot) {}
            }
            let gone = NIOLockedValueBox(false)
            try await request.body.consumeWithInboundCloseHandler { _ in
                try await writer.write(ByteBuffer(string: "retry: 5000\n: connected\n\n"))
                var lastRefresh = ContinuousClock.now
                while !Task.isShuttingDownGracefully, !gone.withLockedValue({ $0 }) {
                    let changed = await JobsController.waitForChange(subscription.signal, upTo: Self.refreshInterval)
                    if gone.withLockedValue({ $0 }) || Task.isShuttingDownGracefully { break }
                    if changed || ContinuousClock.now - lastRefresh >= Self.refreshInterval {
                        try await writer.write(ByteBuffer(string: "event: queue\ndata: changed\n\n"))
                        lastRefresh = ContinuousClock.now
                        try await Task.sleep(for: Self.coalesceInterval)
                    } else {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
            } onInboundClosed: {
                gone.withLockedValue { $0 = true }
                subscription.signal.fire()
            }
            try await writer.finish(nil)
        })
    }
}

/// A page link's query string, percent-encoded; absent values are left out.
struct URLQuery: Sendable {
    private var items: [(String, String)] = []

    mutating func add(_ name: String, _ value: String?) {
        if let value { items.append((name, value)) }
    }

    func adding(_ name: String, _ value: String) -> String {
        var copy = self
        copy.add(name, value)
        return copy.text
    }

    var text: String { items.map { "\($0.0)=\(Self.encoded($0.1))" }.joined(separator: "&") }

    /// Everything but RFC 3986's unreserved characters percent-encoded (also what
    /// `application/x-www-form-urlencoded` credentials need, RFC 6749 §2.3.1).
    static func encoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
