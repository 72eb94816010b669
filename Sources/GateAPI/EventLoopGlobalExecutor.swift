import Atomics
import CExecutorHook
import NIOCore
import NIOPosix

/// Runs Swift Concurrency's global executor on NIO's singleton event loops, the
/// threads that already run the HTTP server, Postgres and Redis channels: an `await`
/// on a channel then resumes where the reply arrived instead of waking a thread of
/// Swift's own pool.
/// This is what `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`
/// does, but NIO finds the runtime's hook with `dlsym`, which fails in a binary linked
/// with `--static-swift-stdlib` (how the Dockerfile and the bench build it).
/// The cost: a task that blocks its thread now blocks an event loop, so nothing the
/// server runs may block (getaddrinfo goes to `NIOThreadPool`, as before).
enum EventLoopGlobalExecutor {
    private typealias EnqueueHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Call once, at start-up. False if another hook is already installed.
    static func install() -> Bool {
        let hook: EnqueueHook = { job, _ in
            // `any()` is the current loop when called on one: no thread switch.
            MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(job)
        }
        let slot = UnsafeAtomic<UnsafeRawPointer?>(at: gate_swift_task_enqueue_global_hook_address()
            .withMemoryRebound(to: UnsafeRawPointer?.AtomicRepresentation.self, capacity: 1) { $0 })
        return slot.compareExchange(
            expected: nil, desired: unsafeBitCast(hook, to: UnsafeRawPointer.self), ordering: .sequentiallyConsistent
        ).exchanged
    }

    /// Runs CPU-bound `work` on an event loop other than the current one and returns
    /// its result. With tasks on the loops, work and the I/O that feeds it would
    /// otherwise share one thread: an export decoded Postgres rows and encoded them
    /// on one core (64,000 events/s on the 2-core bench VM, against 91,000 before).
    static func runOnAnotherLoop<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup.singleton
        let current = MultiThreadedEventLoopGroup.currentEventLoop
        let loop = group.makeIterator().first { $0 !== current } ?? group.next()
        return try await loop.submit(work).get()
    }
}
