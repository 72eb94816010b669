import AsyncHTTPClient
import Foundation
import Testing

/// The real `gate-api` executable, as an operator runs it.
@Suite struct ServeProcessTests {
    struct Outcome {
        let status: Int32?
        let stderr: String
    }

    func spawn(_ arguments: [String], environment: [String: String], stderrPath: String) throws -> ChildProcess {
        try ChildProcess(
            [TestEnvironment.productsDirectory.appendingPathComponent("gate-api").path] + arguments,
            environment: environment, stderrPath: stderrPath)
    }

    /// Runs `gate-api` to completion and returns its exit status and stderr.
    func run(_ arguments: [String], environment: [String: String]) async throws -> Outcome {
        let stderrPath = "\(TestEnvironment.serversDirectory)/gate-api-\(UUID().uuidString).stderr"
        let process = try spawn(arguments, environment: environment, stderrPath: stderrPath)
        let status = await process.wait()
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return Outcome(status: status, stderr: stderr)
    }

    @Test func missingConfigurationStopsStartUpWithOneLine() async throws {
        let outcome = try await run(["serve"], environment: [:])
        #expect(outcome.status == 78)
        #expect(outcome.stderr == "gate-api: configuration error: DATABASE_URL is required\n")
    }

    @Test func invalidPortNamesTheVariable() async throws {
        let outcome = try await run(["serve"], environment: ["DATABASE_URL": "postgres://u@h/d", "PORT": "http"])
        #expect(outcome.status == 78)
        #expect(outcome.stderr.hasPrefix("gate-api: configuration error: PORT "))
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }

    @Test func serveRefusesAStaleSchemaThenRunsAndStopsOnSIGTERM() async throws {
        try await TestDatabase.withFresh(migrated: false) { db in
            let port = try TestEnvironment.freePort()
            let env = TestEnvironment.appEnvironment(databaseURL: db.url, overrides: ["PORT": String(port)])

            let refused = try await run(["serve"], environment: env)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("schema is behind"))
            #expect(refused.stderr.contains("gate-api migrate"))

            let migrated = try await run(["migrate"], environment: env)
            #expect(migrated.status == 0, "\(migrated.stderr)")
            let again = try await run(["migrate"], environment: env)
            #expect(again.status == 0)

            let server = try spawn(["serve"], environment: env, stderrPath: "/dev/null")
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var healthy = false
            for _ in 0..<100 where !healthy {
                let response = try? await http.get(url: "http://127.0.0.1:\(port)/ready").get()
                healthy = response?.status == .ok
                if !healthy { try await Task.sleep(for: .milliseconds(100)) }
            }
            try await http.shutdown()
            #expect(healthy)

            server.signal(SIGTERM)
            // A graceful stop exits 0, well before a SIGKILL would be needed.
            #expect(await server.wait(timeout: .seconds(10)) == 0)
        }
    }
}
