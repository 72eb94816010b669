import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A Postgres cluster of one test's own, for what must not disturb the suite's shared
/// server (other suites run against it in parallel): stopping it the hard way and
/// starting it again. Made like scripts/lib.sh makes the suite's (initdb, superuser
/// `gate`, trust on loopback, no fsync: a crash of the server process, unlike one of the
/// machine, loses no commit), but the postmaster runs in the
/// foreground as a `ChildProcess`, so scripts/test kills it if the test binary dies.
/// Postgres refuses to run as root: as root, it runs as the `postgres` user (setpriv
/// execs, so the child's pid is the postmaster's).
final class PostgresServerProcess: Sendable {
    let port: Int
    private let directory: String
    private let child = NIOLockedValueBox<ChildProcess?>(nil)

    init() async throws {
        let port = try TestEnvironment.freePort()
        let directory = "\(TestEnvironment.serversDirectory)/postgres-\(port)"
        try await Self.initdb(directory)
        self.port = port
        self.directory = directory
        try await start()
    }

    /// The `postgres` database as the superuser `gate`.
    var url: String { "postgres://gate@127.0.0.1:\(port)/postgres?sslmode=disable" }

    private static var asOwner: [String] {
        getuid() == 0 ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []
    }

    private static var binDirectory: String {
        get throws {
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
            guard let newest = versions.compactMap(Int.init).max() else { throw PostgresServerDidNotStart(log: "no /usr/lib/postgresql/*/bin") }
            return "/usr/lib/postgresql/\(newest)/bin"
        }
    }

    private static func initdb(_ directory: String) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            guard chown(directory, Self.postgresUser.uid, Self.postgresUser.gid) == 0 else {
                throw PostgresServerDidNotStart(log: "cannot hand \(directory) to the postgres user")
            }
        }
        let log = "\(directory).initdb.log"
        let initdb = try ChildProcess(
            asOwner + [
                "\(try binDirectory)/initdb", "-D", directory, "-U", "gate", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            ], stdoutPath: log, stderrPath: log)
        guard await initdb.wait(timeout: .seconds(120)) == 0 else {
            throw PostgresServerDidNotStart(log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "initdb failed")
        }
    }

    private static var postgresUser: (uid: uid_t, gid: gid_t) {
        guard let entry = getpwnam("postgres") else { return (0, 0) }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Starts the postmaster (again, after `crash()`) and waits until it accepts connections.
    func start() async throws {
        let log = "\(directory)/server.log"
        let process = try ChildProcess(
            Self.asOwner + [
                "\(try Self.binDirectory)/postgres", "-D", directory, "-p", String(port), "-k", directory,
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                "-c", "full_page_writes=off", "-c", "max_connections=200",
            ], stdoutPath: log, stderrPath: log)
        child.withLockedValue { $0 = process }
        for _ in 0..<600 {
            guard process.isRunning else { break }
            if await Self.acceptsConnections(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        await process.stop()
        throw PostgresServerDidNotStart(log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// What `pg_ctl stop -m immediate` does: SIGQUIT to the postmaster, which kills every
    /// backend at once without a checkpoint (the next start runs crash recovery). Returns
    /// when it has exited.
    func crash() async {
        guard let process = child.withLockedValue({ $0 }) else { return }
        process.signal(SIGQUIT)
        if await process.wait(timeout: .seconds(20)) == nil { await process.stop() }
        child.withLockedValue { $0 = nil }
    }

    /// Stops it for good (a fast shutdown).
    func stop() async {
        guard let process = child.withLockedValue({ $0 }) else { return }
        await process.stop(grace: .seconds(20))
        child.withLockedValue { $0 = nil }
    }

    /// Accepting TCP connections (while it starts up or recovers it accepts and refuses
    /// sessions with 57P03; `TestDatabase.waitUntilReady` waits for a session).
    private static func acceptsConnections(port: Int) async -> Bool {
        guard let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        else { return false }
        try? await channel.close()
        return true
    }
}

/// initdb's or the server's own log says why.
struct PostgresServerDidNotStart: Error {
    let log: String
}
