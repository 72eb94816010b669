import Gate

/// The limits that keep one tenant, or one anonymous client, from exhausting what all
/// of them share: this replica's tasks and connections, the audit export slots, the
/// HTTP server's connections and the database behind authentication. Read by
/// `AppConfig` (each from its environment variable, checked at start-up).
struct ResourceLimits: Sendable {
    /// Event streams and long-polls (`?wait=`) open at once per principal
    /// (`EVENT_WAITERS_PER_PRINCIPAL`) and per replica (`EVENT_WAITERS_PER_REPLICA`).
    var eventWaitersPerPrincipal = 10
    var eventWaitersPerReplica = 1000
    /// Audit exports and verifications at once per workspace (`AUDIT_EXPORT_PER_WORKSPACE`),
    /// within the replica's `AUDIT_EXPORT_CONCURRENCY`.
    var auditExportsPerWorkspace = 1
    /// An export the client stops reading is cut off after `AUDIT_EXPORT_IDLE_SECONDS`
    /// without progress, and any export after `AUDIT_EXPORT_MAX_SECONDS`.
    var auditExportIdleTimeout = Duration.seconds(30)
    var auditExportMaxDuration = Duration.seconds(900)
    /// A connection that sends nothing (an unfinished request head included) is closed
    /// after `HTTP_READ_TIMEOUT_SECONDS`, and a request body must arrive within it.
    var httpReadTimeout = Duration.seconds(30)
    /// Failed authentications per client address and replica (`AUTH_FAILURES_PER_MINUTE`,
    /// after a burst of `AUTH_FAILURES_BURST`); past them the address gets 429 before
    /// its credential is looked at.
    var authFailuresPerMinute = 60
    var authFailuresBurst = 20
    /// When set, `/metrics` wants `Authorization: Bearer <METRICS_TOKEN>`.
    var metricsToken: String?
    /// Hops whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`, CIDRs).
    var trustedProxies: [IPNetwork] = []
    /// Backpressure on a workspace's automatic queue: past `WORKSPACE_MAX_QUEUED_JOBS`
    /// queued jobs, or with its oldest due job waiting past
    /// `WORKSPACE_MAX_QUEUE_AGE_SECONDS`, automatic submissions get 429 (0: no limit).
    var workspaceQueue = QueueLimits(maxQueued: QueueLimits.defaultMaxQueued, maxAgeSeconds: nil)
    /// A job submission's body may be up to `MAX_SUBMISSION_BODY_BYTES` (files travel
    /// in it as base64) — other requests keep `MAX_BODY_BYTES` — and at most
    /// `LARGE_SUBMISSIONS_PER_REPLICA` bodies over `MAX_BODY_BYTES` are read at once,
    /// which bounds the memory they take (bench/RESULTS.md "Attachments").
    var maxSubmissionBodyBytes = 30 << 20
    var largeSubmissionsPerReplica = 2
    /// How often each replica samples the queues it answers from (`QUEUE_SAMPLE_INTERVAL_MS`).
    var queueSampleInterval = Duration.seconds(1)
}
