/// Why a workspace's automatic submissions wait: its queue is past
/// `WORKSPACE_MAX_QUEUED_JOBS`, or its oldest due job has waited longer than
/// `WORKSPACE_MAX_QUEUE_AGE_SECONDS` (docs/operations.md "Backpressure").
public struct QueueFull: Sendable, Equatable {
    public enum Limit: Sendable, Equatable {
        /// At least `queued` automatic jobs wait (counted up to a little past the limit).
        case depth(queued: Int, limit: Int)
        /// The oldest due automatic job has waited `seconds`.
        case age(seconds: Int, limit: Int)
    }

    public let limit: Limit
    /// When the queue is expected to be back under its limit (at least 1, at most 60).
    public let retryAfterSeconds: Int

    public init(_ limit: Limit, retryAfterSeconds: Int) {
        self.limit = limit
        self.retryAfterSeconds = min(60, max(1, retryAfterSeconds))
    }

    /// The stable code of the refusal: the audit row's `reason` and the problem's.
    public var reason: String {
        switch limit {
        case .depth: return "queue_full"
        case .age: return "queue_behind"
        }
    }

    public var detail: String {
        switch limit {
        case .depth(let queued, let limit):
            return "the workspace has \(queued) or more queued jobs, past its limit of \(limit); "
                + "automatic submissions wait until the executors catch up (jobs that need approval are still taken)"
        case .age(let seconds, let limit):
            return "the workspace's oldest queued job has waited \(seconds) s, past its limit of \(limit) s; "
                + "automatic submissions wait until the executors catch up (jobs that need approval are still taken)"
        }
    }
}

/// Whether a workspace's automatic queue takes more jobs now. Answered from memory (the
/// server samples every workspace's queue in the background), since it is asked on
/// every automatic submission.
public protocol QueueBackpressure: Sendable {
    func refusal(workspaceID: String) -> QueueFull?
}

/// No limits: every submission is queued.
public struct UnlimitedQueues: QueueBackpressure {
    public init() {}
    public func refusal(workspaceID: String) -> QueueFull? { nil }
}

/// One workspace's queue, as the server's sampler saw it (Persistence: `ExecutionStore.sampleQueues`).
public struct WorkspaceQueueSample: Sendable, Equatable {
    public let workspaceID: String
    /// Queued (automatic) jobs, retries waiting for their time included, counted up to
    /// the cap the sample was taken with.
    public let queued: Int
    /// How long the oldest due queued job has been due, in seconds (0: none due).
    public let oldestQueuedDueSeconds: Double
    /// How long the oldest due approved job has been due, in seconds (0: none due).
    public let oldestApprovedDueSeconds: Double

    public init(workspaceID: String, queued: Int, oldestQueuedDueSeconds: Double, oldestApprovedDueSeconds: Double) {
        self.workspaceID = workspaceID
        self.queued = queued
        self.oldestQueuedDueSeconds = oldestQueuedDueSeconds
        self.oldestApprovedDueSeconds = oldestApprovedDueSeconds
    }
}

/// The limits on a workspace's automatic queue, and what a sample says of them.
public struct QueueLimits: Sendable, Equatable {
    /// `WORKSPACE_MAX_QUEUED_JOBS` (nil: none).
    public var maxQueued: Int?
    /// `WORKSPACE_MAX_QUEUE_AGE_SECONDS` (nil: none).
    public var maxAgeSeconds: Int?

    public init(maxQueued: Int?, maxAgeSeconds: Int?) {
        self.maxQueued = maxQueued
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// How far a sample counts a workspace's queue: a tenth past the limit, so that the
    /// excess (and so the wait) can be told; without a limit, as far as the default
    /// limit's count. Counting is the sample's cost, which grows with this
    /// (bench/RESULTS.md "Backpressure").
    public var countCap: Int { maxQueued.map { $0 + max(1, $0 / 10) } ?? 11_000 }

    /// `WORKSPACE_MAX_QUEUED_JOBS`'s default.
    public static let defaultMaxQueued = 10_000

    /// What a submission to the sampled workspace is told, or nil if it is queued.
    /// `drainPerSecond` is how fast its queue shrank since the previous sample (nil: no
    /// earlier sample over the limit), which is what `Retry-After` is worked out from.
    public func refusal(_ sample: WorkspaceQueueSample, drainPerSecond: Double?) -> QueueFull? {
        if let maxQueued, sample.queued > maxQueued {
            let excess = Double(sample.queued - maxQueued)
            let wait: Double
            switch drainPerSecond {
            case let rate? where rate > 0 && sample.queued < countCap: wait = (excess / rate).rounded(.up)
            case .some: wait = 30  // not shrinking, or further past the limit than was counted
            case nil: wait = 10  // just went past it
            }
            return QueueFull(.depth(queued: sample.queued, limit: maxQueued), retryAfterSeconds: Int(min(wait, 60)))
        }
        if let maxAgeSeconds, sample.oldestQueuedDueSeconds > Double(maxAgeSeconds) {
            return QueueFull(.age(seconds: Int(sample.oldestQueuedDueSeconds), limit: maxAgeSeconds), retryAfterSeconds: 10)
        }
        return nil
    }
}
