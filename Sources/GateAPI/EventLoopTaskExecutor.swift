import NIOCore

/// A `TaskExecutor` that runs jobs on one NIO event loop. A task that prefers it
/// resumes, after awaiting a socket owned by the same loop, on the thread that just
/// read the reply — no wake-up of a global-executor thread and back for every
/// Postgres or Redis round trip.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
