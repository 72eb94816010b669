import Foundation
import Gate
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

@Suite struct NotificationsListenerTests {
    /// A listening connection that stops carrying anything without closing (a half-open
    /// TCP connection) is noticed by the heartbeat and replaced: notifications arrive
    /// again. Without the heartbeat the listener waits on it forever.
    @Test func aSilentlyDeadConnectionIsReplaced() async throws {
        try await TestDatabase.withFresh(migrated: false) { db in
            var url = try #require(URLComponents(string: db.url))
            let relay = try await TCPRelay(to: try #require(url.port))
            url.port = relay.port
            let relayed = try DatabaseConfiguration.parse(try #require(url.string), maximumConnections: 4)
            let received = NIOLockedValueBox<[String]>([])
            let listening = NIOLockedValueBox(0)
            do {
                try await withRunningPostgres(relayed, logger: TestEnvironment.logger, timeout: .seconds(60)) { client in
                    let listener = NotificationsListener(
                        postgres: client,
                        channels: [
                            .init(
                                name: "listener_test", onListening: { listening.withLockedValue { $0 += 1 } },
                                onNotification: { payload in received.withLockedValue { $0.append(payload) } })
                        ],
                        heartbeat: .milliseconds(500), logger: TestEnvironment.logger)
                    let running = Task { try await listener.run() }
                    defer { running.cancel() }

                    /// Notifies (directly, not through the relay) until `payload` arrives.
                    func arrives(_ payload: String, within limit: Duration) async throws -> Bool {
                        let deadline = ContinuousClock.now + limit
                        while ContinuousClock.now < deadline {
                            try await db.withClient { direct in
                                _ = try await direct.query("SELECT pg_notify('listener_test', \(payload))")
                            }
                            if received.withLockedValue({ $0.contains(payload) }) { return true }
                            try await Task.sleep(for: .milliseconds(250))
                        }
                        return false
                    }

                    let before = try await arrives("before", within: .seconds(20))
                    #expect(before)
                    #expect(listening.withLockedValue { $0 } == 1)
                    relay.freeze()
                    let after = try await arrives("after", within: .seconds(20))
                    #expect(after, "still listening on the frozen connection")
                    #expect(listening.withLockedValue { $0 } >= 2)
                    running.cancel()
                    _ = await running.result
                }
            } catch {
                await relay.cut()
                throw error
            }
            await relay.cut()
        }
    }
}
