import Foundation
import Testing

@testable import Redis

/// `rediss://` against a real redis-server with TLS, as hosted Redis services run it.
@Suite struct RedisTLSTests {
    /// A self-signed certificate for localhost, made with the openssl command line.
    static func makeCertificate(in directory: String) async throws -> (cert: String, key: String) {
        let cert = "\(directory)/cert.pem"
        let key = "\(directory)/key.pem"
        let openssl = try ChildProcess([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        guard await openssl.wait() == 0 else { throw RedisError.invalidConfiguration("openssl failed") }
        return (cert, key)
    }

    @Test func commandsWorkOverTLS() async throws {
        let directory = "\(TestEnvironment.serversDirectory)/tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (cert, key) = try await Self.makeCertificate(in: directory)
        let server = try await RedisServerProcess(extraArguments: [
            "--port", "0", "--tls-port", "{port}", "--tls-cert-file", cert, "--tls-key-file", key,
            "--tls-ca-cert-file", cert, "--tls-auth-clients", "no",
        ])

        var config = try RedisConfiguration(url: "rediss://localhost:\(server.port)")
        config.tlsCAFile = cert
        let redis = try RedisClient(configuration: config)
        try await redis.ping()
        try await redis.set("secure", to: "yes", expiresInSeconds: 60)
        #expect(try await redis.get("secure") == "yes")
        await redis.shutdown()

        // Plain RESP against the TLS port gets no usable reply.
        var plain = try RedisConfiguration(url: "redis://localhost:\(server.port)")
        plain.commandTimeout = .milliseconds(500)
        let plainClient = try RedisClient(configuration: plain)
        await #expect(throws: RedisError.self) { try await plainClient.ping() }
        await plainClient.shutdown()

        // Without the CA the server's certificate is not trusted.
        let untrusting = try RedisClient(configuration: try RedisConfiguration(url: "rediss://localhost:\(server.port)"))
        await #expect(throws: RedisError.self) { try await untrusting.ping() }
        await untrusting.shutdown()
        await server.stop()
    }
}
