import Foundation
import Gate
import NIOConcurrencyHelpers
import Persistence

/// In-process fan-out of job state changes to long-polls and event streams. Fed by
/// `NotificationsListener` from Postgres `LISTEN gateapi_jobs`, so a change made on any replica
/// reaches waiters on every replica; `JobEventsResync` is the backstop for a notification
/// lost while that connection was down (one statement for all waiters of the replica).
final class JobEvents: Sendable {
    private let subscribers = NIOLockedValueBox<[String: [ObjectIdentifier: JobSignal]]>([:])

    static func key(workspace: String, job: String) -> String { "\(workspace):\(job)" }

    /// Announced when a job becomes runnable (approved, queued, retried, requeued):
    /// wakes the executors.
    static let runnableKey = "*runnable"

    /// A signal fired on each change of the job; `cancel` unsubscribes it.
    func subscribe(workspace: String, job: String) -> (signal: JobSignal, cancel: @Sendable () -> Void) {
        subscribe(key: Self.key(workspace: workspace, job: job))
    }

    /// Announced when an approval of the workspace is decided (migration 0020) or, in
    /// this replica, requested (`jobAwaitsApproval`): the console's live queue.
    static func approvalsKey(workspace: String) -> String { workspace + approvalsSuffix }
    static let approvalsSuffix = ":approvals"

    func subscribe(key: String) -> (signal: JobSignal, cancel: @Sendable () -> Void) {
        let signal = JobSignal()
        let id = ObjectIdentifier(signal)
        subscribers.withLockedValue { $0[key, default: [:]][id] = signal }
        let cancel: @Sendable () -> Void = { [weak self] in
            self?.subscribers.withLockedValue { subscribers in
                subscribers[key]?.removeValue(forKey: id)
                if subscribers[key]?.isEmpty == true { subscribers[key] = nil }
            }
        }
        return (signal, cancel)
    }

    func publish(_ key: String) {
        let signals = subscribers.withLockedValue { $0[key].map { Array($0.values) } ?? [] }
        for signal in signals { signal.fire() }
    }

    var subscriberCount: Int { subscribers.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }

    /// The jobs someone waits on now, each with its waiters' signals.
    func watchedJobs() -> [(job: JobKey, signals: [JobSignal])] {
        subscribers.withLockedValue { subscribers in
            subscribers.compactMap { key, signals in
                // Job keys are "<workspace>:<job>"; the executors' wake-up has no colon.
                // A workspace's approvals (`approvalsKey`) are no job.
                guard let colon = key.firstIndex(of: ":"), !key.hasSuffix(Self.approvalsSuffix) else { return nil }
                let job = JobKey(workspaceID: String(key[..<colon]), id: String(key[key.index(after: colon)...]))
                return (job, Array(signals.values))
            }
        }
    }
}

/// A one-waiter wake-up: `fire` wakes the current `wait`, or the next one if nobody
/// is waiting (a change is never lost between two waits).
final class JobSignal: Sendable {
    private struct State {
        var pending = false
        var cancelled = false
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private let state = NIOLockedValueBox(State())
    /// The `updated_at` of the job as its waiter last read it (nil before the first
    /// read): the re-read fires the signal when the database holds another.
    private let seen = NIOLockedValueBox<Date?>(nil)

    func saw(updatedAt: Date) { seen.withLockedValue { $0 = updatedAt } }

    /// Whether the job as stored now (nil: gone) differs from what the waiter last read.
    func isStale(comparedWith stored: Date?) -> Bool {
        seen.withLockedValue { seen in seen != nil && seen != stored }
    }

    func fire() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume(returning: true)
    }

    /// True if fired within `limit`.
    func wait(for limit: Duration) async -> Bool {
        guard limit > .zero else { return false }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.nextFire() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    private func nextFire() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLockedValue { state in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    if state.cancelled {
                        state.cancelled = false
                        return false
                    }
                    state.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
                let waiter = state.waiter
                state.waiter = nil
                if waiter == nil { state.cancelled = true }
                return waiter
            }
            waiter?.resume(returning: false)
        }
    }
}

/// This replica's executors start at once; the others find the job when they next poll.
extension JobEvents: RunnableJobSignal {
    func jobBecameRunnable(_ job: JobRecord) { publish(Self.runnableKey) }
    /// This replica's open queue pages refresh at once; the other replicas' on their timer
    /// (a NOTIFY per submission would serialise the submissions' commits: migration 0020).
    func jobAwaitsApproval(_ job: JobRecord) { publish(Self.approvalsKey(workspace: job.workspaceID)) }
}
