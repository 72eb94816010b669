import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawnp`. Foundation's `Process` passes the
/// spawning thread's blocked-signal mask on to the child, and Swift's worker threads
/// block SIGTERM, so a redis-server or gate-api started that way ignores SIGTERM.
/// This resets the mask and signal dispositions, and waits without blocking a thread.
/// While it runs, its pid is in a file in the servers directory: the test binary is a
/// process group of its own, so if it crashes its children outlive it, and scripts/test
/// kills them through these files.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let exitStatus = NIOLockedValueBox<Int32?>(nil)
    private var pidFile: String { "\(TestEnvironment.serversDirectory)/child-\(pid).pid" }

    /// Starts `arguments[0]` (looked up in PATH) with stdin read from, and stdout and stderr sent to, files.
    init(_ arguments: [String], environment: [String: String]? = nil, stdinPath: String = "/dev/null",
         stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if stderrPath == stdoutPath && stdoutPath != "/dev/null" {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)  // one file, both streams in order
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, &envp)
        guard result == 0 else { throw ChildProcessError.spawnFailed(arguments[0], result) }
        self.pid = pid
        try? String(pid).write(toFile: pidFile, atomically: true, encoding: .utf8)
    }

    func signal(_ signal: Int32) {
        if exitStatus.withLockedValue({ $0 }) == nil { kill(pid, signal) }
    }

    /// Reaps the child if it has exited; nil while it runs.
    func poll() -> Int32? {
        exitStatus.withLockedValue { status in
            if let status { return status }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
            try? FileManager.default.removeItem(atPath: pidFile)
            // Exit code, or 128 + signal number like a shell reports it.
            status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            return status
        }
    }

    var isRunning: Bool { poll() == nil }

    /// Waits for the child to exit; nil if it is still running after `timeout`.
    func wait(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = poll() { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return poll()
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    func stop(grace: Duration = .seconds(5)) async {
        signal(SIGTERM)
        if await wait(timeout: grace) == nil {
            signal(SIGKILL)
            _ = await wait(timeout: .seconds(5))
        }
    }

    deinit {
        // Never leave a server behind, even when a test fails before stopping it.
        if poll() == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
            try? FileManager.default.removeItem(atPath: pidFile)
        }
    }
}

enum ChildProcessError: Error {
    case spawnFailed(String, Int32)
}
