// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "GateAPI",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gate-api", targets: ["GateAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.5.2"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // hiredis from Debian's libhiredis-dev: RESP encoding and the reply parser.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "Redis",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Persistence",
            dependencies: [
                "Gate", "Auth", "GateCore", "Actions", "Approvals",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Shared by the domain modules: JSON values, canonical JSON, random ids.
        .target(name: "GateCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "Auth",
            dependencies: [
                "GateCore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Actions",
            dependencies: [
                "GateCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(name: "Approvals", dependencies: ["GateCore"]),
        // The gate's use cases (submit, vote, cancel, key administration, …), the records
        // they work on and the store protocols they need: what every front door (REST,
        // CLI, console, links, MCP) calls. Persistence and the Redis-backed stores
        // implement the protocols; nothing here knows HTTP, Postgres or Redis.
        .target(
            name: "Gate",
            dependencies: ["GateCore", "Approvals", "Actions", "Auth", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "GateAPI",
            dependencies: [
                "Redis", "Persistence", "Gate", "Auth", "Actions", "Approvals", "GateCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // ConnectionPoolError: what PostgresClient throws when it cannot connect.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // Compiled into the binary (`PackageResources`): the image ships only the executable.
            resources: [
                .embedInCode("Resources/openapi.json"),
                .embedInCode("Resources/docs.html"),
                .embedInCode("Resources/docs.css"),
                .embedInCode("Resources/docs.js"),
                .embedInCode("Resources/console/console-head.mustache"),
                .embedInCode("Resources/console/console-foot.mustache"),
                .embedInCode("Resources/console/console-error.mustache"),
                .embedInCode("Resources/console/console-signin.mustache"),
                .embedInCode("Resources/console/decide-confirm.mustache"),
                .embedInCode("Resources/console/decide-result.mustache"),
                .embedInCode("Resources/console/console-reviewers.mustache"),
                .embedInCode("Resources/console/console-delegation.mustache"),
                .embedInCode("Resources/console/console-workspaces.mustache"),
                .embedInCode("Resources/console/console-queue.mustache"),
                .embedInCode("Resources/console/console-queue-rows.mustache"),
                .embedInCode("Resources/console/console-approval.mustache"),
                .embedInCode("Resources/console/console-outbox.mustache"),
                .embedInCode("Resources/console/console-outbox-message.mustache"),
                .embedInCode("Resources/console/console-bulk-confirm.mustache"),
                .embedInCode("Resources/console/console-bulk-result.mustache"),
                .embedInCode("Resources/console/console-audit.mustache"),
                .embedInCode("Resources/console/console-audit-verify.mustache"),
                .embedInCode("Resources/console/console-job.mustache"),
                .embedInCode("Resources/console/console-policies.mustache"),
                .embedInCode("Resources/console/console-keys.mustache"),
                .embedInCode("Resources/console/console-dead-letters.mustache"),
                .embedInCode("Resources/console/console.css"),
                .embedInCode("Resources/console/console.js"),
            ]
        ),
        // Unit tests, by module: no servers (the domain's use cases on in-memory stores).
        .testTarget(name: "GateTests", dependencies: ["Gate", "Auth", "Actions", "Approvals", "GateCore"]),
        .testTarget(name: "GateCoreTests", dependencies: ["GateCore"]),
        .testTarget(
            name: "ActionsTests",
            dependencies: ["Actions", "GateCore", "MIMETestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "RedisTests", dependencies: ["Redis", .product(name: "NIOCore", package: "swift-nio")]),
        // A strict MIME reader, the way a mail client reads what GateAPI sends: the MIME unit
        // tests and the Google stand-in of the integration tests share it.
        .target(name: "MIMETestSupport", path: "Tests/MIMETestSupport"),
        // Integration tests: real Postgres and Redis (started by scripts/test), the built binary.
        .testTarget(
            name: "GateAPITests",
            dependencies: [
                "GateAPI", "Redis", "Persistence", "Gate", "Auth", "Actions", "Approvals", "GateCore", "MIMETestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
