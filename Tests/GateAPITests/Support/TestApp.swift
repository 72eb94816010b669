import Foundation
import Hummingbird
import HummingbirdTesting

@testable import GateAPI

/// Runs `test` against a live GateAPI built by the same `buildApplication` the
/// executable uses, on an ephemeral port. The default client sends everything over one
/// connection, where the server answers pipelined requests one after another; a test
/// that sends requests at once to make them race asks for `concurrent`: AsyncHTTPClient
/// with its pool of connections, so they reach the server at once. The other tests keep
/// the single connection they were written against.
func withTestApp(
    databaseURL: String = TestEnvironment.databaseURL,
    environment overrides: [String: String] = [:],
    concurrent: Bool = false,
    _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    // Apps serve as the serving role (TestEnvironment.appEnvironment), which the
    // first migrated database creates; an app on an unmigrated database may come first.
    try await TestDatabase.ensureServingRole()
    let config = try AppConfig.load(from: TestEnvironment.appEnvironment(databaseURL: databaseURL, overrides: overrides))
    let services = try await AppServices(config: config, logger: TestEnvironment.logger)
    let app = buildApplication(config: config, services: services, logger: TestEnvironment.logger)
    try await app.test(concurrent ? .ahc(.http) : .live, test)
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
}
