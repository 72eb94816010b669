import Foundation
import Hummingbird
import HummingbirdTesting

@testable import GateAPI

/// Runs `test` against a live GateAPI built by the same `buildApplication` the
/// executable uses, on an ephemeral port. The client is AsyncHTTPClient with its
/// pool of connections, so requests sent at once really run at once: the `.live`
/// client sends everything over one connection, where the server answers pipelined
/// requests one after another (a "race" test would race nothing, and a long poll
/// would wait behind the request before it).
func withTestApp(
    databaseURL: String = TestEnvironment.databaseURL,
    environment overrides: [String: String] = [:],
    _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let config = try AppConfig.load(from: TestEnvironment.appEnvironment(databaseURL: databaseURL, overrides: overrides))
    let services = try await AppServices(config: config, logger: TestEnvironment.logger)
    let app = buildApplication(config: config, services: services, logger: TestEnvironment.logger)
    try await app.test(.ahc(.http), test)
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
}
